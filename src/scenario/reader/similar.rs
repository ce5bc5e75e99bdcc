//! "Did you mean": the known word closest to an unknown one, if it is plausibly a typo.

/// The candidate closest to `word` by edit distance, if it is plausibly a typo. A candidate
/// whose length differs from the word's by more than the distance allowed is not measured (the
/// distance is at least the difference): a megabyte-long key costs a length, not a megabyte
/// times each candidate.
pub fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let allowed = |c: &str| 2.max(c.len() / 3);
    let longest = candidates.iter().map(|c| c.len() + allowed(c)).max()?;
    if word.len() > 4 * longest {
        return None;
    }
    let length = word.chars().count();
    candidates
        .iter()
        .filter(|c| length.abs_diff(c.chars().count()) <= allowed(c))
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= allowed(c))
        .min()
        .map(|(_, c)| c)
}

/// The Levenshtein distance between `a` and `b`, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_skips_words_of_another_length_without_measuring_them() {
        // A megabyte-long word is not compared letter by letter with every candidate.
        let long = "instances".repeat(100_000);
        assert_eq!(closest(&long, &["instances", "name"]), None);
        assert_eq!(closest("instancesxx", &["instances"]), Some("instances"));
        assert_eq!(closest("instancesxxxx", &["instances"]), None);
    }

    #[test]
    fn closest_suggests_typos_only() {
        assert_eq!(
            closest("instancs", &["instances", "name"]),
            Some("instances")
        );
        assert_eq!(closest("zzzzzz", &["instances", "name"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
