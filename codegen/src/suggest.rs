//! "Did you mean ...?": the names closest to one that was not found, for commands that
//! take a name (a method, a topic, a type) and should answer a typo with the right one.
//!
//! Closeness is the edit distance (Levenshtein: one letter inserted, deleted or replaced
//! counts one), ignoring case. A dotted candidate is also compared by its last segment,
//! so `evaluate` finds `calc.evaluate` and `calc.evalute` finds it too.

/// The candidates closest to `name`, nearest first (ties in the candidates' order),
/// at most five, or none when nothing is close.
///
/// A candidate is close when its distance to `name` is at most a third of `name`'s
/// length (at least 1): `ad` finds `add`, `calc.evalute` finds `calc.evaluate`, `x` finds
/// nothing in `["add", "divide"]`. Only the nearest distance found is kept, so a typo of
/// one letter is not drowned among names two letters away. A candidate equal to `name`
/// is not a suggestion.
///
/// ```
/// use volley_cli::suggest::closest;
///
/// let names = ["add", "divide", "calc.evaluate"];
/// assert_eq!(closest("calc.evalute", names), ["calc.evaluate"]);
/// assert_eq!(closest("evaluate", names), ["calc.evaluate"]);
/// assert_eq!(closest("ad", names), ["add"]);
/// assert!(closest("sqrt", names).is_empty());
/// ```
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted: Vec<char> = name.to_lowercase().chars().collect();
    let limit = (wanted.len() / 3).max(1);
    let mut scored: Vec<(usize, &'a str)> = vec![];
    for candidate in candidates {
        if candidate == name || scored.iter().any(|(_, c)| *c == candidate) {
            continue;
        }
        let whole: Vec<char> = candidate.to_lowercase().chars().collect();
        let mut d = distance(&wanted, &whole);
        if let Some((_, last)) = candidate.rsplit_once('.') {
            let last: Vec<char> = last.to_lowercase().chars().collect();
            d = d.min(distance(&wanted, &last));
        }
        if d <= limit {
            scored.push((d, candidate));
        }
    }
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else {
        return vec![];
    };
    scored.into_iter().filter(|(d, _)| *d == best).map(|(_, c)| c).take(5).collect()
}

/// The Levenshtein distance between two strings of characters.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb { diagonal } else { 1 + diagonal.min(above).min(row[j]) };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str) -> usize {
        distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>())
    }

    #[test]
    fn edit_distance() {
        assert_eq!(d("", ""), 0);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("divide", "divdie"), 2);
        assert_eq!(d("évalue", "evalue"), 1);
    }

    #[test]
    fn only_the_nearest_are_suggested() {
        let names = ["ticks.fast", "ticks.slow", "tick", "news"];
        assert_eq!(closest("ticks.fats", names), ["ticks.fast"]);
        assert_eq!(closest("ticks", names), ["tick"]);
        assert_eq!(closest("NEWS", names), ["news"]);
        assert!(closest("news", names).is_empty(), "the name itself is no suggestion");
        assert!(closest("weather", names).is_empty());
    }

    #[test]
    fn ties_keep_the_candidates_order_and_duplicates_are_dropped() {
        assert_eq!(closest("cat", ["bat", "cot", "bat", "car"]), ["bat", "cot", "car"]);
        let many = ["a1", "a2", "a3", "a4", "a5", "a6"];
        assert_eq!(closest("a", many).len(), 5);
    }
}
