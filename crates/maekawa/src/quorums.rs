//! Request sets (quorums) for Maekawa's algorithm, usable on their own.
//!
//! Maekawa's algorithm needs, for every node `i`, a request set `S_i` with
//!
//! * **intersection**: `S_i ∩ S_j ≠ ∅` for every pair `i, j` — the property mutual exclusion
//!   rests on;
//! * **self-membership**: `i ∈ S_i` — so a node never asks a stranger about itself;
//! * ideally **equal effort** (every `|S_i| = K`) and **equal responsibility** (every node in
//!   exactly `K` sets), with `K` as small as possible (about `√N`).
//!
//! Constructions, for `N` nodes numbered `0..N`:
//!
//! * [`Quorums::grid`] — for square `N = m²`: nodes in an `m × m` grid, row-major; `S_i` is `i`'s
//!   row and column. `K = 2m − 1 = 2√N − 1`, equal effort and responsibility.
//! * [`Quorums::projective_plane`] — for `N = q² + q + 1`, `q` a prime power up to
//!   [`gf::MAX_ORDER`]: the points of the projective plane PG(2, q) over
//!   GF(q) are the nodes, and every node is given a different line through it (a perfect matching
//!   between points and lines, which exists because the incidence graph is `(q+1)`-regular). Two
//!   lines always meet in exactly one point, so `K = q + 1 ≈ √N`, equal effort and
//!   responsibility: Maekawa's optimum.
//! * Fallbacks, for any `N ≥ 1`:
//!   * [`Quorums::partial_grid`] — nodes laid out row-major in rows of `w = ⌈√N⌉` (the last row
//!     possibly short); `S_i` is `i`'s row and column. Row `r` of `i` and column `c` of `j` meet
//!     at cell `(r, c)` unless that cell is missing, which happens only when `r` is the short last
//!     row and `c` lies beyond its end; then `j` is not in the last row, so `j`'s (full) row meets
//!     `i`'s column at `(row of j, column of i)`. So any two sets intersect, with no extra
//!     members. `K ≤ 2⌈√N⌉ − 1`, load unequal.
//!   * [`Quorums::folded_projective_plane`] — the smallest plane PG(2, q) with at least `N`
//!     points, point `p` mapped to node `p mod N`; node `i` takes the image of its matched line.
//!     Images of intersecting lines intersect, so `K ≤ q + 1`, load unequal. Usually smaller `K`
//!     than the partial grid (N = 16: 5 instead of 7).
//!
//! [`Quorums::new`] picks by [`QuorumKind`]: `Grid` (a partial grid when `N` is not a square,
//! saying so in [`Quorums::note`]), `ProjectivePlane` (folded when `N` is not `q² + q + 1`), or
//! `Auto`: of every construction available for `N`, the one with the smallest `K` (the largest
//! set), ties going to the exact constructions. [`Quorums::validate`] checks the properties; the
//! builders are proven above and tested for every `N` in `1..=200`, and do not re-check (it costs
//! `O(N²K)`).
//!
//! ```
//! use dme_core::NodeId;
//! use dme_maekawa::{Construction, Quorums, QuorumKind};
//!
//! let q = Quorums::new(13, QuorumKind::Auto).unwrap();
//! assert_eq!(q.construction(), Construction::ProjectivePlane { order: 3 });
//! assert_eq!(q.k(), 4);
//! assert!(q.quorum(NodeId(5)).unwrap().contains(&NodeId(5)));
//! q.validate().unwrap();
//!
//! let g = Quorums::new(10, QuorumKind::Grid).unwrap();
//! assert_eq!(g.construction().name(), "partial grid");
//! assert!(g.note().unwrap().contains("not a square"));
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use dme_core::{Error, NodeId};
use serde::{Deserialize, Serialize};

use crate::gf::{self, Field, prime_power};

/// Which construction to ask for (the CLI's `--quorum grid|fpp|auto`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuorumKind {
    /// The √N × √N grid; a partial grid when N is not a square.
    Grid,
    /// A finite projective plane; folded from a larger plane when N is not q² + q + 1.
    ProjectivePlane,
    /// The construction with the smallest K available for N.
    #[default]
    Auto,
}

impl fmt::Display for QuorumKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuorumKind::Grid => "grid",
            QuorumKind::ProjectivePlane => "fpp",
            QuorumKind::Auto => "auto",
        })
    }
}

impl FromStr for QuorumKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "grid" => Ok(QuorumKind::Grid),
            "fpp" | "projective-plane" | "projective_plane" | "plane" => {
                Ok(QuorumKind::ProjectivePlane)
            }
            "auto" => Ok(QuorumKind::Auto),
            _ => Err(format!(
                "unknown quorum construction '{s}' (expected grid, fpp or auto)"
            )),
        }
    }
}

/// The construction that produced a [`Quorums`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Construction {
    /// A `side × side` grid, row and column.
    Grid {
        /// √N.
        side: usize,
    },
    /// The projective plane of order `order` (N = q² + q + 1).
    ProjectivePlane {
        /// q.
        order: usize,
    },
    /// Rows of `width` nodes (the last possibly short), row and column.
    PartialGrid {
        /// Nodes per row, ⌈√N⌉.
        width: usize,
        /// Number of rows, ⌈N / width⌉.
        rows: usize,
    },
    /// The plane of order `order` with its `points` points folded onto the N nodes.
    FoldedProjectivePlane {
        /// q.
        order: usize,
        /// q² + q + 1 ≥ N.
        points: usize,
    },
    /// Sets given by the caller ([`Quorums::from_sets`]).
    Custom,
}

impl Construction {
    /// A short name: `grid`, `projective plane`, `partial grid`, `folded projective plane`,
    /// `custom`.
    pub fn name(&self) -> &'static str {
        match self {
            Construction::Grid { .. } => "grid",
            Construction::ProjectivePlane { .. } => "projective plane",
            Construction::PartialGrid { .. } => "partial grid",
            Construction::FoldedProjectivePlane { .. } => "folded projective plane",
            Construction::Custom => "custom",
        }
    }

    /// Whether the construction promises equal effort and equal responsibility (every set of
    /// size K, every node in exactly K sets).
    pub fn promises_equal_load(&self) -> bool {
        matches!(
            self,
            Construction::Grid { .. } | Construction::ProjectivePlane { .. }
        )
    }
}

impl fmt::Display for Construction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Construction::Grid { side } => write!(f, "grid {side}x{side}"),
            Construction::ProjectivePlane { order } => {
                write!(f, "projective plane of order {order}")
            }
            Construction::PartialGrid { width, rows } => {
                write!(f, "partial grid ({rows} rows of up to {width})")
            }
            Construction::FoldedProjectivePlane { order, points } => {
                write!(
                    f,
                    "projective plane of order {order} ({points} points) folded"
                )
            }
            Construction::Custom => f.write_str("custom"),
        }
    }
}

/// The request sets of a cluster of N nodes numbered `0..N`: node `i`'s set is a sorted list of
/// node ids. See the [module documentation](self) for the constructions.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Quorums {
    construction: Construction,
    note: Option<String>,
    sets: Vec<Vec<NodeId>>,
}

impl Quorums {
    /// The quorums of `n` nodes built as `kind` asks (see [`QuorumKind`]).
    pub fn new(n: usize, kind: QuorumKind) -> Result<Quorums, Error> {
        match kind {
            QuorumKind::Grid => Quorums::grid(n),
            QuorumKind::ProjectivePlane => Quorums::projective_plane(n),
            QuorumKind::Auto => Quorums::auto(n),
        }
    }

    /// The √N × √N grid; for a non-square `n`, the [partial grid](Quorums::partial_grid), with
    /// a [note](Quorums::note) saying so.
    pub fn grid(n: usize) -> Result<Quorums, Error> {
        check_size(n)?;
        let side = n.isqrt();
        if side * side != n {
            let mut q = Quorums::partial_grid(n)?;
            q.note = Some(format!(
                "N={n} is not a square: partial grid instead of the square grid"
            ));
            return Ok(q);
        }
        let mut q = row_and_column(n, side);
        q.construction = Construction::Grid { side };
        Ok(q)
    }

    /// Rows of ⌈√N⌉ nodes, the last possibly short; each set is the node's row and column. Works
    /// for every `n ≥ 1`.
    pub fn partial_grid(n: usize) -> Result<Quorums, Error> {
        check_size(n)?;
        let width = n.isqrt() + usize::from(n.isqrt() * n.isqrt() != n);
        Ok(row_and_column(n, width))
    }

    /// The projective plane of order q when `n = q² + q + 1` with q a prime power (up to
    /// [`gf::MAX_ORDER`]); otherwise the [folded plane](Quorums::folded_projective_plane), with a
    /// [note](Quorums::note) saying so.
    pub fn projective_plane(n: usize) -> Result<Quorums, Error> {
        check_size(n)?;
        if let Some(q) = plane_order(n) {
            let sets = plane_sets(q, n).ok_or_else(|| too_large(n))?;
            return Ok(Quorums {
                construction: Construction::ProjectivePlane { order: q },
                note: None,
                sets,
            });
        }
        let mut folded = Quorums::folded_projective_plane(n)?;
        folded.note = Some(format!(
            "N={n} is not q²+q+1 for a prime power q: {}",
            folded.construction
        ));
        Ok(folded)
    }

    /// The smallest projective plane with at least `n` points, folded onto the `n` nodes (point
    /// `p` becomes node `p mod n`). Works for every `n ≥ 1` up to the plane of order
    /// [`gf::MAX_ORDER`].
    pub fn folded_projective_plane(n: usize) -> Result<Quorums, Error> {
        check_size(n)?;
        let q = (2..=gf::MAX_ORDER)
            .filter(|&q| prime_power(q).is_some())
            .find(|&q| q * q + q + 1 >= n)
            .ok_or_else(|| too_large(n))?;
        let points = q * q + q + 1;
        let sets = plane_sets(q, n).ok_or_else(|| too_large(n))?;
        Ok(Quorums {
            construction: if points == n {
                Construction::ProjectivePlane { order: q }
            } else {
                Construction::FoldedProjectivePlane { order: q, points }
            },
            note: None,
            sets,
        })
    }

    /// Of the constructions available for `n`, the one with the smallest K; ties go to the
    /// projective plane, then the grid, then the folded plane, then the partial grid.
    pub fn auto(n: usize) -> Result<Quorums, Error> {
        check_size(n)?;
        let mut candidates = Vec::new();
        if plane_order(n).is_some() {
            candidates.push(Quorums::projective_plane(n)?);
        }
        if n.isqrt() * n.isqrt() == n {
            candidates.push(Quorums::grid(n)?);
        }
        if let Ok(folded) = Quorums::folded_projective_plane(n) {
            candidates.push(folded);
        }
        candidates.push(Quorums::partial_grid(n)?);
        // `min_by_key` keeps the first of equal keys: the order above is the tie-break.
        let best = candidates
            .into_iter()
            .min_by_key(|q| q.k())
            .ok_or_else(|| too_large(n))?;
        Ok(best)
    }

    /// Sets chosen by the caller: `sets[i]` is node `i`'s request set. Each is sorted and checked
    /// with [`validate`](Quorums::validate).
    pub fn from_sets(sets: Vec<Vec<NodeId>>) -> Result<Quorums, Error> {
        let sets = sets
            .into_iter()
            .map(|mut s| {
                s.sort_unstable();
                s
            })
            .collect();
        let q = Quorums {
            construction: Construction::Custom,
            note: None,
            sets,
        };
        q.validate()?;
        Ok(q)
    }

    /// The number of nodes N.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether there is no node (never true for a built value).
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The construction used.
    pub fn construction(&self) -> Construction {
        self.construction
    }

    /// Why the construction differs from the one asked for (a fallback), if it does.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// K: the size of the largest request set.
    pub fn k(&self) -> usize {
        self.sets.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// The mean size of the request sets.
    pub fn mean_size(&self) -> f64 {
        if self.sets.is_empty() {
            return 0.0;
        }
        self.sets.iter().map(Vec::len).sum::<usize>() as f64 / self.sets.len() as f64
    }

    /// Node `id`'s request set, sorted (`None` when `id` is not a node).
    pub fn quorum(&self, id: NodeId) -> Option<&[NodeId]> {
        self.sets.get(id.index()).map(Vec::as_slice)
    }

    /// All request sets, `sets()[i]` being node `i`'s.
    pub fn sets(&self) -> &[Vec<NodeId>] {
        &self.sets
    }

    /// For each node, in how many request sets it appears (its "responsibility").
    pub fn load(&self) -> Vec<usize> {
        let mut load = vec![0; self.sets.len()];
        for s in &self.sets {
            for m in s {
                if let Some(l) = load.get_mut(m.index()) {
                    *l += 1;
                }
            }
        }
        load
    }

    /// Checks the properties: at least one node; every set non-empty, sorted, without
    /// duplicates, of nodes `0..N`; every node in its own set; every pair of sets intersecting;
    /// and, for constructions that promise it, every set of size K and every node in exactly K
    /// sets. `O(N²K)`.
    pub fn validate(&self) -> Result<(), Error> {
        let n = self.sets.len();
        if n == 0 {
            return Err(Error::InvalidCluster("no request sets".into()));
        }
        for (i, s) in self.sets.iter().enumerate() {
            if s.is_empty() {
                return Err(Error::InvalidCluster(format!(
                    "n{i}'s request set is empty"
                )));
            }
            if s.windows(2).any(|w| w[0] >= w[1]) {
                return Err(Error::InvalidCluster(format!(
                    "n{i}'s request set is not sorted or has duplicates"
                )));
            }
            if let Some(bad) = s.iter().find(|m| m.index() >= n) {
                return Err(Error::InvalidCluster(format!(
                    "n{i}'s request set names {bad}, not one of the {n} nodes"
                )));
            }
            if s.binary_search(&NodeId(i as u32)).is_err() {
                return Err(Error::InvalidCluster(format!(
                    "n{i} is not in its own request set"
                )));
            }
        }
        for i in 0..n {
            for j in i + 1..n {
                if !intersect(&self.sets[i], &self.sets[j]) {
                    return Err(Error::InvalidCluster(format!(
                        "the request sets of n{i} and n{j} do not intersect"
                    )));
                }
            }
        }
        if self.construction.promises_equal_load() {
            let k = self.k();
            if let Some(i) = self.sets.iter().position(|s| s.len() != k) {
                return Err(Error::InvalidCluster(format!(
                    "{}: n{i}'s request set has {} members, not K={k}",
                    self.construction,
                    self.sets[i].len()
                )));
            }
            if let Some((i, l)) = self.load().into_iter().enumerate().find(|(_, l)| *l != k) {
                return Err(Error::InvalidCluster(format!(
                    "{}: n{i} is in {l} request sets, not K={k}",
                    self.construction
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Quorums {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} for N={} (K={}, mean {:.2})",
            self.construction,
            self.len(),
            self.k(),
            self.mean_size()
        )?;
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

fn check_size(n: usize) -> Result<(), Error> {
    if n == 0 {
        return Err(Error::InvalidCluster("no nodes".into()));
    }
    if n > u32::MAX as usize {
        return Err(too_large(n));
    }
    Ok(())
}

fn too_large(n: usize) -> Error {
    Error::InvalidCluster(format!("N={n} is too large for this construction"))
}

fn intersect(a: &[NodeId], b: &[NodeId]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// Row and column in a row-major layout of `n` nodes in rows of `width`.
fn row_and_column(n: usize, width: usize) -> Quorums {
    let rows = n.div_ceil(width);
    let sets = (0..n)
        .map(|i| {
            let (r, c) = (i / width, i % width);
            let mut s: Vec<NodeId> = (r * width..((r + 1) * width).min(n))
                .chain((0..rows).map(|rr| rr * width + c).filter(|&j| j < n))
                .map(|j| NodeId(j as u32))
                .collect();
            s.sort_unstable();
            s.dedup();
            s
        })
        .collect();
    Quorums {
        construction: Construction::PartialGrid { width, rows },
        note: None,
        sets,
    }
}

/// `Some(q)` when `n = q² + q + 1` with q a prime power.
fn plane_order(n: usize) -> Option<usize> {
    let q = n.isqrt();
    (q >= 2 && q * q + q + 1 == n && prime_power(q).is_some()).then_some(q)
}

/// Index of the normalized point or line `(x, y, z)` of PG(2, q): `(1, y, z)` → `yq + z`,
/// `(0, 1, z)` → `q² + z`, `(0, 0, 1)` → `q² + q`.
fn plane_index(q: usize, v: (usize, usize, usize)) -> usize {
    match v {
        (0, 0, _) => q * q + q,
        (0, _, z) => q * q + z,
        (_, y, z) => y * q + z,
    }
}

/// The inverse of [`plane_index`].
fn plane_vector(q: usize, i: usize) -> (usize, usize, usize) {
    if i < q * q {
        (1, i / q, i % q)
    } else if i < q * q + q {
        (0, 1, i - q * q)
    } else {
        (0, 0, 1)
    }
}

/// The points of line `(a, b, c)`: the normalized `(x, y, z)` with `ax + by + cz = 0`, found
/// directly in `O(q)`.
fn line_points(f: &Field, (a, b, c): (usize, usize, usize)) -> Vec<usize> {
    let q = f.order();
    let mut pts = Vec::with_capacity(q + 1);
    // Points (1, y, z): a + by + cz = 0.
    if c != 0 {
        for y in 0..q {
            let z = f.neg(f.div(f.add(a, f.mul(b, y)), c));
            pts.push(plane_index(q, (1, y, z)));
        }
    } else if b != 0 {
        let y = f.neg(f.div(a, b));
        for z in 0..q {
            pts.push(plane_index(q, (1, y, z)));
        }
    }
    // Points (0, 1, z): b + cz = 0.
    if c != 0 {
        pts.push(plane_index(q, (0, 1, f.neg(f.div(b, c)))));
    } else if b == 0 {
        for z in 0..q {
            pts.push(plane_index(q, (0, 1, z)));
        }
    }
    // The point (0, 0, 1): c = 0.
    if c == 0 {
        pts.push(plane_index(q, (0, 0, 1)));
    }
    pts
}

/// The request sets of nodes `0..n` from PG(2, q) (`n ≤ q² + q + 1`): node `i` takes the line
/// matched to point `i`, with points folded onto nodes by `p mod n`.
fn plane_sets(q: usize, n: usize) -> Option<Vec<Vec<NodeId>>> {
    let field = Field::new(q)?;
    let count = q * q + q + 1;
    if n > count {
        return None;
    }
    let lines: Vec<Vec<usize>> = (0..count)
        .map(|l| line_points(&field, plane_vector(q, l)))
        .collect();
    let line_of = perfect_matching(count, &lines)?;
    Some(
        (0..n)
            .map(|i| {
                let mut s: Vec<NodeId> = lines[line_of[i]]
                    .iter()
                    .map(|&p| NodeId((p % n) as u32))
                    .collect();
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect(),
    )
}

/// A perfect matching point → line in the incidence graph (every point to a distinct line
/// through it), by augmenting paths, deterministic. `None` if there is none (never for a plane).
fn perfect_matching(count: usize, lines: &[Vec<usize>]) -> Option<Vec<usize>> {
    let mut lines_of_point: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (l, pts) in lines.iter().enumerate() {
        for &p in pts {
            lines_of_point[p].push(l);
        }
    }
    let mut point_of_line: Vec<Option<usize>> = vec![None; count];
    let mut line_of_point: Vec<Option<usize>> = vec![None; count];
    // Greedy start.
    for p in 0..count {
        if let Some(&l) = lines_of_point[p]
            .iter()
            .find(|&&l| point_of_line[l].is_none())
        {
            point_of_line[l] = Some(p);
            line_of_point[p] = Some(l);
        }
    }
    // Augment from each unmatched point along alternating paths (breadth first).
    for start in 0..count {
        if line_of_point[start].is_some() {
            continue;
        }
        let mut came_from: Vec<Option<usize>> = vec![None; count]; // line → point reached from
        let mut queue = VecDeque::from([start]);
        let mut free_line = None;
        'search: while let Some(p) = queue.pop_front() {
            for &l in &lines_of_point[p] {
                if came_from[l].is_some() {
                    continue;
                }
                came_from[l] = Some(p);
                match point_of_line[l] {
                    None => {
                        free_line = Some(l);
                        break 'search;
                    }
                    Some(next) => queue.push_back(next),
                }
            }
        }
        // Flip the path back to `start`.
        let mut l = free_line?;
        loop {
            let p = came_from[l]?;
            let previous = line_of_point[p];
            point_of_line[l] = Some(p);
            line_of_point[p] = Some(l);
            match previous {
                Some(pl) if p != start => l = pl,
                _ => break,
            }
        }
    }
    line_of_point.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FPP: [(usize, usize); 7] = [(7, 2), (13, 3), (21, 4), (31, 5), (57, 7), (73, 8), (91, 9)];

    #[test]
    fn every_kind_is_valid_for_every_n_up_to_200() {
        for n in 1..=200 {
            for kind in [
                QuorumKind::Grid,
                QuorumKind::ProjectivePlane,
                QuorumKind::Auto,
            ] {
                let q = Quorums::new(n, kind).unwrap();
                assert_eq!(q.len(), n);
                q.validate()
                    .unwrap_or_else(|e| panic!("{kind} N={n} ({q}): {e}"));
            }
            Quorums::partial_grid(n).unwrap().validate().unwrap();
            Quorums::folded_projective_plane(n)
                .unwrap()
                .validate()
                .unwrap();
        }
    }

    #[test]
    fn square_grids_have_k_2_sqrt_n_minus_1_and_equal_load() {
        for m in 1..=14usize {
            let q = Quorums::grid(m * m).unwrap();
            assert_eq!(q.construction(), Construction::Grid { side: m });
            assert_eq!(q.k(), 2 * m - 1);
            assert!(q.sets().iter().all(|s| s.len() == 2 * m - 1));
            assert!(q.load().iter().all(|&l| l == 2 * m - 1));
            assert_eq!(q.note(), None);
        }
        // Node 5 of the 3x3 grid: row {3,4,5}, column {2,5,8}.
        let q = Quorums::grid(9).unwrap();
        let ids = |v: &[u32]| v.iter().map(|&i| NodeId(i)).collect::<Vec<_>>();
        assert_eq!(
            q.quorum(NodeId(5)).unwrap(),
            ids(&[2, 3, 4, 5, 8]).as_slice()
        );
    }

    #[test]
    fn projective_planes_have_k_q_plus_1_and_meet_in_exactly_one_node() {
        for (n, order) in FPP {
            let q = Quorums::projective_plane(n).unwrap();
            assert_eq!(q.construction(), Construction::ProjectivePlane { order });
            assert_eq!(q.k(), order + 1, "N={n}");
            assert!(q.sets().iter().all(|s| s.len() == order + 1));
            assert!(q.load().iter().all(|&l| l == order + 1));
            for a in q.sets() {
                for b in q.sets() {
                    let common = a.iter().filter(|x| b.binary_search(x).is_ok()).count();
                    assert!(common == 1 || a == b, "N={n}: lines meet in one point");
                }
            }
            assert_eq!(Quorums::auto(n).unwrap(), q, "auto takes the plane");
        }
        // Larger orders work too: 11, 13, 16.
        for order in [11usize, 13, 16] {
            let q = Quorums::projective_plane(order * order + order + 1).unwrap();
            assert_eq!(q.k(), order + 1);
            q.validate().unwrap();
        }
    }

    #[test]
    fn fallbacks_say_so() {
        let g = Quorums::grid(10).unwrap();
        assert_eq!(
            g.construction(),
            Construction::PartialGrid { width: 4, rows: 3 }
        );
        assert!(g.note().unwrap().contains("not a square"), "{g}");
        assert!(g.k() <= 7);
        let p = Quorums::projective_plane(16).unwrap();
        assert_eq!(
            p.construction(),
            Construction::FoldedProjectivePlane {
                order: 4,
                points: 21
            }
        );
        assert!(p.note().is_some());
        assert!(p.k() <= 5);
        // N = 16: auto prefers the folded plane (K ≤ 5) to the grid (K = 7).
        assert!(Quorums::auto(16).unwrap().k() <= 5);
        assert_eq!(
            Quorums::auto(9).unwrap().k(),
            4,
            "the 13-point plane folded onto 9 nodes"
        );
        assert_eq!(
            Quorums::auto(4).unwrap().construction(),
            Construction::Grid { side: 2 }
        );
    }

    #[test]
    fn auto_is_never_worse_than_the_others() {
        for n in 1..=200 {
            let auto = Quorums::auto(n).unwrap().k();
            assert!(auto <= Quorums::grid(n).unwrap().k(), "N={n}");
            assert!(auto <= Quorums::projective_plane(n).unwrap().k(), "N={n}");
            // Never worse than about 2√N.
            assert!(
                auto as f64 <= 2.0 * (n as f64).sqrt() + 1.0,
                "N={n}: K={auto}"
            );
        }
    }

    #[test]
    fn validate_rejects_broken_sets() {
        let ids = |v: &[u32]| v.iter().map(|&i| NodeId(i)).collect::<Vec<_>>();
        assert!(Quorums::from_sets(vec![ids(&[0, 1]), ids(&[1, 2]), ids(&[0, 2])]).is_ok());
        // n0 and n2 do not intersect.
        assert!(Quorums::from_sets(vec![ids(&[0, 1]), ids(&[1, 2]), ids(&[2])]).is_err());
        // n1 not in its own set.
        assert!(Quorums::from_sets(vec![ids(&[0, 1]), ids(&[0])]).is_err());
        // Unknown node.
        assert!(Quorums::from_sets(vec![ids(&[0, 5])]).is_err());
        // Duplicates.
        assert!(Quorums::from_sets(vec![ids(&[0, 0])]).is_err());
        assert!(Quorums::from_sets(vec![]).is_err());
        assert!(Quorums::new(0, QuorumKind::Auto).is_err());
        // A grid that lost its equal load is caught.
        let mut g = Quorums::grid(4).unwrap();
        g.sets[0].push(NodeId(3));
        assert!(g.validate().is_err());
    }

    #[test]
    fn kinds_parse() {
        for s in ["grid", "fpp", "auto"] {
            assert_eq!(s.parse::<QuorumKind>().unwrap().to_string(), s);
        }
        assert!("tree".parse::<QuorumKind>().is_err());
    }
}
