//! A fast, deterministic hasher and the visited-state store of the breadth-first search.

use std::hash::{BuildHasher, Hash, Hasher};

/// The multiplier of the Fx hash (as used by rustc's `FxHasher`).
const K: u64 = 0x517c_c1b7_2722_0a95;

/// A small, fast, *deterministic* hasher in the style of rustc's `FxHasher`: every word written
/// is folded in with a rotate, an xor and a multiply. Not resistant to adversarial keys (the
/// checker hashes its own states, not attacker input), but the same input always hashes the same
/// on every run (bytes are read little-endian), so nothing the checker reports can depend on a
/// random seed.
#[derive(Clone, Copy, Default, Debug)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
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
            // Up to 7 trailing bytes form one more word; the length byte keeps "ab" and "ab\0"
            // apart.
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

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A [`BuildHasher`] for [`FxHasher`], for deterministic `HashMap`s and `HashSet`s.
#[derive(Clone, Copy, Default, Debug)]
pub struct BuildFxHasher;

impl BuildHasher for BuildFxHasher {
    type Hasher = FxHasher;

    fn build_hasher(&self) -> FxHasher {
        FxHasher::default()
    }
}

/// The [`FxHasher`] hash of one value.
pub fn fx_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = FxHasher::default();
    value.hash(&mut h);
    h.finish()
}

/// No parent: an initial state.
pub(crate) const ROOT: u32 = u32::MAX;
const EMPTY: u32 = u32::MAX;

/// The visited states, in the order they were found (which is breadth-first order, so the
/// store doubles as the search queue), with each state's parent for counterexample traces.
///
/// The hash table is open addressing with linear probing over indices into `states`; the
/// stored 64-bit hashes make probing and growing cheap, and full equality is checked on a hash
/// match, so two different states are never merged.
pub(crate) struct Store<S> {
    states: Vec<S>,
    hashes: Vec<u64>,
    parents: Vec<u32>,
    table: Vec<u32>,
    /// `64 - log2(table.len())`: a hash's slot is its top bits, the well-mixed ones.
    shift: u32,
}

/// What [`Store::insert`] did.
pub(crate) enum Inserted {
    /// A new state, stored at this index.
    New(usize),
    /// The state was already stored.
    Seen,
}

impl<S: Eq + Hash> Store<S> {
    pub(crate) fn new() -> Self {
        let bits = 10;
        Store {
            states: Vec::new(),
            hashes: Vec::new(),
            parents: Vec::new(),
            table: vec![EMPTY; 1 << bits],
            shift: 64 - bits,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    pub(crate) fn get(&self, index: usize) -> &S {
        &self.states[index]
    }

    pub(crate) fn parent(&self, index: usize) -> u32 {
        self.parents[index]
    }

    /// Whether `state` is stored (without storing it).
    pub(crate) fn contains(&self, state: &S) -> bool {
        let hash = fx_hash(state);
        let mask = self.table.len() - 1;
        let mut slot = (hash >> self.shift) as usize;
        loop {
            let at = self.table[slot];
            if at == EMPTY {
                return false;
            }
            let i = at as usize;
            if self.hashes[i] == hash && self.states[i] == *state {
                return true;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Stores `state` (found from `parent`) unless an equal state is already stored.
    pub(crate) fn insert(&mut self, state: S, parent: u32) -> Inserted {
        let hash = fx_hash(&state);
        let mask = self.table.len() - 1;
        let mut slot = (hash >> self.shift) as usize;
        loop {
            let at = self.table[slot];
            if at == EMPTY {
                break;
            }
            let i = at as usize;
            if self.hashes[i] == hash && self.states[i] == state {
                return Inserted::Seen;
            }
            slot = (slot + 1) & mask;
        }
        let index = self.states.len();
        self.table[slot] = index as u32;
        self.states.push(state);
        self.hashes.push(hash);
        self.parents.push(parent);
        if self.states.len() * 2 > self.table.len() {
            self.grow();
        }
        Inserted::New(index)
    }

    fn grow(&mut self) {
        let size = self.table.len() * 2;
        self.shift -= 1;
        self.table.clear();
        self.table.resize(size, EMPTY);
        let mask = size - 1;
        for (i, &hash) in self.hashes.iter().enumerate() {
            let mut slot = (hash >> self.shift) as usize;
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
        assert_eq!(fx_hash(&(1u8, [2u16; 3])), fx_hash(&(1u8, [2u16; 3])));
        assert_ne!(fx_hash(&b"ab"[..]), fx_hash(&b"ab\0"[..]));
        assert_ne!(fx_hash(&1u64), fx_hash(&2u64));
    }

    #[test]
    fn store_deduplicates_and_keeps_insertion_order_across_growth() {
        let mut store = Store::new();
        for i in 0..5000u32 {
            assert!(matches!(store.insert(i, ROOT), Inserted::New(n) if n == i as usize));
        }
        for i in 0..5000u32 {
            assert!(matches!(store.insert(i, 0), Inserted::Seen));
            assert!(store.contains(&i));
            assert_eq!(*store.get(i as usize), i);
        }
        assert!(!store.contains(&5000));
        assert_eq!(store.len(), 5000);
        assert_eq!(store.parent(7), ROOT);
    }
}
