//! State fingerprints and the visited-state store of the breadth-first search.

use std::hash::{Hash, Hasher};

/// The multiplier of the Fx hash (as used by rustc's `FxHasher`).
const K: u64 = 0x517c_c1b7_2722_0a95;

/// A fast, deterministic 128-bit fingerprint hasher: two independent Fx-style lanes (different multipliers and
/// rotations), each finished with a strong 64-bit mixer. Visited states are stored by
/// fingerprint only, as TLC and stateright do; with 128 bits the chance that two of even 10^9
/// distinct states share a fingerprint is below 10^-20 for a well-mixed hash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fingerprinter {
    a: u64,
    b: u64,
}

const K2: u64 = 0x9e37_79b9_7f4a_7c15;

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter {
            a: 0,
            b: 0x243f_6a88_85a3_08d3,
        }
    }
}

/// The finalizer of MurmurHash3: every input bit affects every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Fingerprinter {
    #[inline]
    fn add(&mut self, word: u64) {
        self.a = (self.a.rotate_left(5) ^ word).wrapping_mul(K);
        self.b = (self.b.rotate_left(23) ^ word).wrapping_mul(K2);
    }

    /// The 128-bit fingerprint of what was written.
    pub(crate) fn finish128(&self) -> Fingerprint {
        Fingerprint(fmix64(self.a), fmix64(self.b ^ 0x5851_f42d_4c95_7f2d))
    }
}

impl Hasher for Fingerprinter {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            let (word, rest) = bytes.split_at(8);
            let mut buf = [0u8; 8];
            buf.copy_from_slice(word);
            self.add(u64::from_le_bytes(buf));
            bytes = rest;
        }
        if !bytes.is_empty() {
            let mut buf = [0u8; 8];
            buf[..bytes.len()].copy_from_slice(bytes);
            buf[7] ^= bytes.len() as u8;
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.finish128().0
    }
}

/// A state's 128-bit fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub(crate) struct Fingerprint(pub(crate) u64, pub(crate) u64);

/// The fingerprint of one value.
pub(crate) fn fingerprint<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    let mut h = Fingerprinter::default();
    value.hash(&mut h);
    h.finish128()
}

/// No parent: an initial state.
pub(crate) const ROOT: u32 = u32::MAX;
const EMPTY: u32 = u32::MAX;

/// The visited states' fingerprints, numbered in the order they were found (breadth-first
/// order), each with its parent's number for counterexample traces: about 28 bytes per state
/// whatever the state's size.
///
/// The table is open addressing with linear probing over numbers into `fps`; a fingerprint's
/// slot is taken from its (fully mixed) first word.
pub(crate) struct Store {
    fps: Vec<Fingerprint>,
    parents: Vec<u32>,
    table: Vec<u32>,
    /// `64 - log2(table.len())`.
    shift: u32,
}

impl Store {
    pub(crate) fn new() -> Self {
        let bits = 10;
        Store {
            fps: Vec::new(),
            parents: Vec::new(),
            table: vec![EMPTY; 1 << bits],
            shift: 64 - bits,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.fps.len()
    }

    pub(crate) fn fingerprint(&self, index: usize) -> Fingerprint {
        self.fps[index]
    }

    pub(crate) fn parent(&self, index: usize) -> u32 {
        self.parents[index]
    }

    /// The slot holding `fp`, or the empty slot where it would go.
    fn slot(&self, fp: Fingerprint) -> (usize, bool) {
        let mask = self.table.len() - 1;
        let mut slot = (fp.0 >> self.shift) as usize;
        loop {
            let at = self.table[slot];
            if at == EMPTY {
                return (slot, false);
            }
            if self.fps[at as usize] == fp {
                return (slot, true);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Whether `fp` is stored.
    pub(crate) fn contains(&self, fp: Fingerprint) -> bool {
        self.slot(fp).1
    }

    /// The number of `fp`, if it is stored.
    pub(crate) fn index_of(&self, fp: Fingerprint) -> Option<usize> {
        match self.slot(fp) {
            (slot, true) => Some(self.table[slot] as usize),
            _ => None,
        }
    }

    /// Stores `fp` (found from `parent`) and returns its number, or `None` if already stored.
    pub(crate) fn insert(&mut self, fp: Fingerprint, parent: u32) -> Option<usize> {
        let (slot, found) = self.slot(fp);
        if found {
            return None;
        }
        let index = self.fps.len();
        self.table[slot] = index as u32;
        self.fps.push(fp);
        self.parents.push(parent);
        if self.fps.len() * 2 > self.table.len() {
            self.grow();
        }
        Some(index)
    }

    fn grow(&mut self) {
        let size = self.table.len() * 2;
        self.shift -= 1;
        self.table.clear();
        self.table.resize(size, EMPTY);
        let mask = size - 1;
        for (i, fp) in self.fps.iter().enumerate() {
            let mut slot = (fp.0 >> self.shift) as usize;
            while self.table[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.table[slot] = i as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_hash_equal_and_trailing_bytes_matter() {
        assert_eq!(
            fingerprint(&(1u8, [2u16; 3])),
            fingerprint(&(1u8, [2u16; 3]))
        );
        assert_ne!(fingerprint(&b"ab"[..]), fingerprint(&b"ab\0"[..]));
        assert_ne!(fingerprint(&1u64), fingerprint(&2u64));
    }

    #[test]
    fn store_deduplicates_and_keeps_insertion_order_across_growth() {
        let mut store = Store::new();
        for i in 0..5000u32 {
            assert_eq!(store.insert(fingerprint(&i), ROOT), Some(i as usize));
        }
        for i in 0..5000u32 {
            assert_eq!(store.insert(fingerprint(&i), 0), None);
            assert!(store.contains(fingerprint(&i)));
            assert_eq!(store.fingerprint(i as usize), fingerprint(&i));
        }
        assert!(!store.contains(fingerprint(&5000u32)));
        assert_eq!(store.len(), 5000);
        assert_eq!(store.parent(7), ROOT);
    }

    #[test]
    fn fingerprint_lanes_differ() {
        let fp = fingerprint(&(1u8, 2u64));
        assert_ne!(fp.0, fp.1);
        assert_eq!(fp, fingerprint(&(1u8, 2u64)));
        assert_ne!(fp, fingerprint(&(2u8, 1u64)));
    }
}
