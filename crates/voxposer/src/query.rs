//! Resolving object phrases ("the blue block", "the bowl closest to the sticker",
//! "the topmost drawer handle") to one entity of the scene, the way VoxPoser's
//! `parse_query_obj` does, deterministically.

/// What a phrase may name besides scene entities.
pub const GRIPPER_ALIASES: &[&str] = &[
    "gripper",
    "ee",
    "hand",
    "end effector",
    "robot",
    "the gripper",
];
/// The table's name.
pub const TABLE: &str = "table";

/// One candidate the resolver chooses among.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Entity name.
    pub name: String,
    /// Colour word, if any.
    pub color: Option<String>,
    /// Centre, world metres.
    pub center: [f64; 3],
}

/// The result of resolving a phrase.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// The end effector.
    Gripper,
    /// The table.
    Table,
    /// The entity at this index of the candidate list.
    Entity(usize),
}

const ARTICLES: &[&str] = &["the", "a", "an", "one", "of", "object"];

/// Lower-case words of a phrase, articles dropped, "centre" spelled "center".
pub fn words(phrase: &str) -> Vec<String> {
    phrase
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !ARTICLES.contains(w))
        .map(|w| singular(w).to_string())
        .collect()
}

/// A crude singular for matching ("blocks" -> "block", "tomatoes" -> "tomato").
pub fn singular(w: &str) -> &str {
    if w.len() > 4
        && (w.ends_with("oes") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes"))
    {
        &w[..w.len() - 2]
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        &w[..w.len() - 1]
    } else {
        w
    }
}

/// Relation words: (phrase, pick the smallest distance?).
const RELATIONS: &[(&str, bool)] = &[
    ("closest to", true),
    ("nearest to", true),
    ("closest", true),
    ("nearest", true),
    ("next to", true),
    ("farthest from", false),
    ("furthest from", false),
    ("farthest", false),
    ("furthest", false),
];

/// Superlatives: (word, axis, pick the largest?).
const SUPERLATIVES: &[(&str, usize, bool)] = &[
    ("leftmost", 1, false),
    ("rightmost", 1, true),
    ("topmost", 2, true),
    ("highest", 2, true),
    ("uppermost", 2, true),
    ("lowest", 2, false),
    ("bottommost", 2, false),
    ("frontmost", 0, true),
    ("backmost", 0, false),
    ("rearmost", 0, false),
];

/// Resolves a phrase among candidates. `Ok(None)` when nothing matches (VoxPoser returns
/// none); an error when the phrase is ambiguous.
pub fn resolve(phrase: &str, cands: &[Candidate]) -> Result<Option<Resolved>, String> {
    let p = phrase.trim().to_lowercase();
    let p = p.strip_prefix("the ").unwrap_or(&p).trim().to_string();
    if GRIPPER_ALIASES.contains(&p.as_str()) {
        return Ok(Some(Resolved::Gripper));
    }
    if p == TABLE || p == "tabletop" {
        return Ok(Some(Resolved::Table));
    }
    if let Some(i) = cands.iter().position(|c| c.name.to_lowercase() == p) {
        return Ok(Some(Resolved::Entity(i)));
    }
    // "X closest to Y"
    for &(rel, nearest) in RELATIONS {
        let key = format!(" {rel} ");
        if let Some(at) = p.find(&key) {
            let base = &p[..at];
            let reference = &p[at + key.len()..];
            let reference = reference.strip_prefix("to ").unwrap_or(reference);
            let reference = reference.strip_prefix("from ").unwrap_or(reference);
            // Resolved once: a chain of n such clauses then costs n resolutions, not 2^n.
            let (r, base_ref) = match resolve(reference, cands)? {
                Some(Resolved::Entity(i)) => (cands[i].center, Some(i)),
                Some(_) | None => {
                    return Err(format!(
                        "in {phrase:?}: found nothing called {reference:?} to compare with"
                    ));
                }
            };
            let matches: Vec<usize> = matching(base, cands)
                .into_iter()
                .filter(|&i| Some(i) != base_ref)
                .collect();
            let d = |i: usize| {
                (0..3)
                    .map(|a| (cands[i].center[a] - r[a]).powi(2))
                    .sum::<f64>()
            };
            let best = if nearest {
                matches
                    .iter()
                    .copied()
                    .min_by(|&a, &b| d(a).total_cmp(&d(b)))
            } else {
                matches
                    .iter()
                    .copied()
                    .max_by(|&a, &b| d(a).total_cmp(&d(b)))
            };
            return Ok(best.map(Resolved::Entity));
        }
    }
    // "the topmost drawer handle"
    let ws = words(&p);
    if let Some(first) = ws.first()
        && let Some(&(_, axis, largest)) = SUPERLATIVES.iter().find(|(w, _, _)| w == first)
    {
        let rest = ws[1..].join(" ");
        let m = matching(&rest, cands);
        let key = |i: &usize| cands[*i].center[axis];
        let best = if largest {
            m.into_iter().max_by(|a, b| key(a).total_cmp(&key(b)))
        } else {
            m.into_iter().min_by(|a, b| key(a).total_cmp(&key(b)))
        };
        return Ok(best.map(Resolved::Entity));
    }
    let m = matching(&p, cands);
    match m.len() {
        0 => Ok(None),
        1 => Ok(Some(Resolved::Entity(m[0]))),
        _ => {
            // Prefer the one whose head noun (last word) is the phrase's: "lid" names the
            // "saucepan lid", not the "lid handle".
            let head: Vec<usize> = m
                .iter()
                .copied()
                .filter(|&i| words(&cands[i].name).last() == ws.last())
                .collect();
            let pool = if head.is_empty() { m.clone() } else { head };
            // Then the one with the fewest extra words: "mug" over "mug handle", "the green
            // one" is the "green button", not the "green button base".
            let fewest = pool
                .iter()
                .map(|&i| words(&cands[i].name).len())
                .min()
                .unwrap_or(0);
            let short: Vec<usize> = pool
                .iter()
                .copied()
                .filter(|&i| words(&cands[i].name).len() == fewest)
                .collect();
            if short.len() == 1 {
                return Ok(Some(Resolved::Entity(short[0])));
            }
            let names: Vec<&str> = m.iter().map(|&i| cands[i].name.as_str()).collect();
            Err(format!(
                "{phrase:?} could mean any of: {}; say which",
                names.join(", ")
            ))
        }
    }
}

/// Candidates whose name words plus colour contain every word of the phrase.
pub fn matching(phrase: &str, cands: &[Candidate]) -> Vec<usize> {
    let ws = words(phrase);
    if ws.is_empty() {
        return Vec::new();
    }
    cands
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let mut have = words(&c.name);
            if let Some(col) = &c.color {
                have.push(col.to_lowercase());
            }
            ws.iter().all(|w| have.contains(w))
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, color: &str, center: [f64; 3]) -> Candidate {
        Candidate {
            name: name.into(),
            color: Some(color.into()),
            center,
        }
    }

    #[test]
    fn a_long_chain_of_relations_resolves_once_per_clause() {
        // Each clause once: resolving the reference twice a clause made 60 clauses 2^60
        // resolutions (20 took 23 s), which never returned.
        let cands = vec![
            c("blue block", "blue", [0.3, 0.0, 0.8]),
            c("yellow block", "yellow", [0.3, 0.4, 0.8]),
        ];
        let mut phrase = "the blue block".to_string();
        for k in 0..60 {
            let other = if k % 2 == 0 { "yellow" } else { "blue" };
            phrase = format!("{phrase} closest to the {other} block");
        }
        assert_eq!(resolve(&phrase, &cands), Ok(Some(Resolved::Entity(0))));
    }

    #[test]
    fn resolves_names_colours_relations_and_superlatives() {
        let cands = vec![
            c("blue bowl", "blue", [0.3, 0.0, 0.8]),
            c("red bowl", "red", [0.3, 0.4, 0.8]),
            c("sticker", "pink", [0.3, 0.5, 0.76]),
            c("top drawer handle", "silver", [0.5, -0.3, 1.1]),
            c("bottom drawer handle", "silver", [0.5, -0.3, 0.8]),
            c("mug", "white", [0.1, 0.1, 0.8]),
            c("mug handle", "white", [0.1, 0.15, 0.8]),
        ];
        assert_eq!(
            resolve("the blue bowl", &cands),
            Ok(Some(Resolved::Entity(0)))
        );
        assert_eq!(
            resolve("bowl closest to the sticker", &cands),
            Ok(Some(Resolved::Entity(1)))
        );
        assert_eq!(
            resolve("the bowl farthest from the sticker", &cands),
            Ok(Some(Resolved::Entity(0)))
        );
        assert_eq!(
            resolve("topmost drawer handle", &cands),
            Ok(Some(Resolved::Entity(3)))
        );
        assert_eq!(
            resolve("lowest drawer handle", &cands),
            Ok(Some(Resolved::Entity(4)))
        );
        assert_eq!(resolve("mug", &cands), Ok(Some(Resolved::Entity(5))));
        assert_eq!(resolve("gripper", &cands), Ok(Some(Resolved::Gripper)));
        assert_eq!(resolve("banana", &cands), Ok(None));
        assert!(
            resolve("bowl", &cands)
                .is_err_and(|e| e.contains("blue bowl") && e.contains("red bowl"))
        );
        assert_eq!(resolve("red one", &cands), Ok(Some(Resolved::Entity(1))));
    }
}
