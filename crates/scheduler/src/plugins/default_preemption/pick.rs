//! The one node preemption nominates among the candidates (upstream's
//! `pickOneNodeForPreemption`): each criterion in turn keeps the nodes
//! that score best on it, until one node is left.

use super::candidates::Candidate;
use super::victims::start_key;

/// The index of the chosen candidate (`candidates` is not empty): fewest
/// budget violations, then the lowest highest-victim priority, the
/// smallest sum of victim priorities, the fewest victims, the latest
/// start among the highest-priority victims, and then the first.
pub fn pick_one_node(candidates: &[Candidate]) -> usize {
    let criteria: [fn(&Candidate) -> i128; 5] = [
        |c| -(c.pdb_violations as i128),
        |c| -i128::from(highest_priority(c)),
        |c| -sum_of_priorities(c),
        |c| -(c.victims.len() as i128),
        earliest_start_of_highest,
    ];
    let mut left: Vec<usize> = (0..candidates.len()).collect();
    for score in criteria {
        let best = left.iter().map(|&i| score(&candidates[i])).max();
        left.retain(|&i| Some(score(&candidates[i])) == best);
        if left.len() == 1 {
            break;
        }
    }
    left.first().copied().unwrap_or(0)
}

/// The priority of the most important victim (victims are kept most
/// important first).
fn highest_priority(candidate: &Candidate) -> i32 {
    candidate.victims.first().map_or(0, |v| v.priority())
}

/// The victims' priorities summed, each shifted by 2^31 so that all are
/// positive: more victims of a negative priority do not sum smaller.
fn sum_of_priorities(candidate: &Candidate) -> i128 {
    let shift = i128::from(i32::MAX) + 1;
    candidate
        .victims
        .iter()
        .map(|v| i128::from(v.priority()) + shift)
        .sum()
}

/// The earliest start among the victims of the highest priority: the later
/// it is, the less work preemption destroys.
fn earliest_start_of_highest(candidate: &Candidate) -> i128 {
    let highest = candidate.victims.iter().map(|v| v.priority()).max();
    candidate
        .victims
        .iter()
        .filter(|v| Some(v.priority()) == highest)
        .map(|v| start_key(&v.pod))
        .min()
        .unwrap_or(i128::MIN)
}
