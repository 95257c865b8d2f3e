//! Finite fields GF(p^k), just enough to build projective planes.
//!
//! An element is stored as an integer `0..q` whose base-`p` digits are the coefficients of a
//! polynomial of degree < `k` over GF(p) (least significant digit = constant term). Addition is
//! digit-wise modulo `p`; multiplication is polynomial multiplication modulo a monic irreducible
//! polynomial of degree `k`: the smallest one in the order of [`Field::modulus`] (for GF(4)
//! x²+x+1, for GF(8) x³+x+1, for GF(9) x²+1). Both operations are tabulated once.

/// The largest field order this module builds (tables take `2q²` bytes of `u16`).
pub const MAX_ORDER: usize = 256;

/// A finite field of order `q = p^k`, with tabulated addition and multiplication.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Field {
    q: usize,
    p: usize,
    k: u32,
    /// Coefficients of the monic irreducible modulus, constant term first (length `k + 1`).
    modulus: Vec<usize>,
    add: Vec<u16>,
    mul: Vec<u16>,
    neg: Vec<u16>,
    inv: Vec<u16>,
}

/// `Some((p, k))` when `q = p^k` with `p` prime and `k ≥ 1`.
pub fn prime_power(q: usize) -> Option<(usize, u32)> {
    if q < 2 {
        return None;
    }
    let p = (2..=q).find(|d| q % d == 0)?;
    let (mut rest, mut k) = (q, 0);
    while rest % p == 0 {
        rest /= p;
        k += 1;
    }
    (rest == 1).then_some((p, k))
}

/// Polynomials over GF(p) as coefficient vectors, constant term first, without trailing zeros.
fn poly_rem(mut a: Vec<usize>, b: &[usize], p: usize) -> Vec<usize> {
    // b is monic.
    let db = b.len() - 1;
    while a.len() > db {
        let lead = *a.last().unwrap_or(&0);
        let shift = a.len() - 1 - db;
        if lead != 0 {
            for (i, &c) in b.iter().enumerate() {
                a[shift + i] = (a[shift + i] + p - (lead * c) % p) % p;
            }
        }
        a.pop();
    }
    while a.last() == Some(&0) {
        a.pop();
    }
    a
}

/// The monic polynomial of degree `deg` over GF(p) numbered `index` (`0..p^deg`): its lower
/// coefficients are the base-`p` digits of `index`.
fn monic(deg: u32, mut index: usize, p: usize) -> Vec<usize> {
    let mut c = Vec::with_capacity(deg as usize + 1);
    for _ in 0..deg {
        c.push(index % p);
        index /= p;
    }
    c.push(1);
    c
}

fn is_irreducible(f: &[usize], p: usize) -> bool {
    let deg = (f.len() - 1) as u32;
    for d in 1..=deg / 2 {
        for index in 0..p.pow(d) {
            if poly_rem(f.to_vec(), &monic(d, index, p), p).is_empty() {
                return false;
            }
        }
    }
    true
}

impl Field {
    /// GF(q), when `q` is a prime power not above [`MAX_ORDER`].
    pub fn new(q: usize) -> Option<Field> {
        if q > MAX_ORDER {
            return None;
        }
        let (p, k) = prime_power(q)?;
        let modulus = (0..p.pow(k))
            .map(|index| monic(k, index, p))
            .find(|f| is_irreducible(f, p))?;
        let digits = |mut e: usize| -> Vec<usize> {
            (0..k)
                .map(|_| {
                    let d = e % p;
                    e /= p;
                    d
                })
                .collect()
        };
        let value = |c: &[usize]| c.iter().rev().fold(0, |acc, &d| acc * p + d);
        let mut add = vec![0u16; q * q];
        let mut mul = vec![0u16; q * q];
        for a in 0..q {
            let da = digits(a);
            for b in 0..q {
                let db = digits(b);
                let sum: Vec<usize> = da.iter().zip(&db).map(|(x, y)| (x + y) % p).collect();
                add[a * q + b] = value(&sum) as u16;
                let mut prod = vec![0usize; 2 * k as usize];
                for (i, x) in da.iter().enumerate() {
                    for (j, y) in db.iter().enumerate() {
                        prod[i + j] = (prod[i + j] + x * y) % p;
                    }
                }
                let rem = poly_rem(prod, &modulus, p);
                mul[a * q + b] = value(&rem) as u16;
            }
        }
        let mut neg = vec![0u16; q];
        let mut inv = vec![0u16; q];
        for a in 0..q {
            for b in 0..q {
                if add[a * q + b] == 0 {
                    neg[a] = b as u16;
                }
                if mul[a * q + b] == 1 {
                    inv[a] = b as u16;
                }
            }
        }
        Some(Field {
            q,
            p,
            k,
            modulus,
            add,
            mul,
            neg,
            inv,
        })
    }

    /// The order `q`.
    pub fn order(&self) -> usize {
        self.q
    }

    /// The characteristic `p` and degree `k`, with `q = p^k`.
    pub fn characteristic(&self) -> (usize, u32) {
        (self.p, self.k)
    }

    /// The irreducible modulus, constant coefficient first (monic: the last is 1).
    pub fn modulus(&self) -> &[usize] {
        &self.modulus
    }

    /// `a + b`.
    pub fn add(&self, a: usize, b: usize) -> usize {
        self.add[a * self.q + b] as usize
    }

    /// `a · b`.
    pub fn mul(&self, a: usize, b: usize) -> usize {
        self.mul[a * self.q + b] as usize
    }

    /// `−a`.
    pub fn neg(&self, a: usize) -> usize {
        self.neg[a] as usize
    }

    /// `a⁻¹` (0 for 0).
    pub fn inv(&self, a: usize) -> usize {
        self.inv[a] as usize
    }

    /// `a / b` (`b ≠ 0`).
    pub fn div(&self, a: usize, b: usize) -> usize {
        self.mul(a, self.inv(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prime_powers_are_recognised() {
        let pp: Vec<usize> = (0..33).filter(|&q| prime_power(q).is_some()).collect();
        assert_eq!(
            pp,
            vec![
                2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17, 19, 23, 25, 27, 29, 31, 32
            ]
        );
        assert_eq!(prime_power(9), Some((3, 2)));
        assert_eq!(prime_power(8), Some((2, 3)));
    }

    #[test]
    fn the_textbook_moduli_are_chosen() {
        assert_eq!(Field::new(4).unwrap().modulus(), &[1, 1, 1]); // x² + x + 1
        assert_eq!(Field::new(8).unwrap().modulus(), &[1, 1, 0, 1]); // x³ + x + 1
        assert_eq!(Field::new(9).unwrap().modulus(), &[1, 0, 1]); // x² + 1
        assert_eq!(Field::new(16).unwrap().modulus(), &[1, 1, 0, 0, 1]); // x⁴ + x + 1
        assert!(Field::new(6).is_none());
        assert!(Field::new(1).is_none());
    }

    #[test]
    fn field_axioms_hold() {
        for q in [2usize, 3, 4, 5, 7, 8, 9, 11, 16, 25, 27, 32] {
            let f = Field::new(q).unwrap();
            for a in 0..q {
                assert_eq!(f.add(a, 0), a);
                assert_eq!(f.mul(a, 1), a);
                assert_eq!(f.add(a, f.neg(a)), 0);
                if a != 0 {
                    assert_eq!(f.mul(a, f.inv(a)), 1, "q={q} a={a}");
                }
                for b in 0..q {
                    assert_eq!(f.add(a, b), f.add(b, a));
                    assert_eq!(f.mul(a, b), f.mul(b, a));
                    if a != 0 && b != 0 {
                        assert_ne!(f.mul(a, b), 0, "q={q}: zero divisors");
                    }
                    for c in [0, 1, q - 1, q / 2] {
                        assert_eq!(
                            f.mul(a, f.add(b, c)),
                            f.add(f.mul(a, b), f.mul(a, c)),
                            "q={q}: distributivity"
                        );
                        assert_eq!(f.mul(f.mul(a, b), c), f.mul(a, f.mul(b, c)));
                        assert_eq!(f.add(f.add(a, b), c), f.add(a, f.add(b, c)));
                    }
                }
            }
        }
    }
}
