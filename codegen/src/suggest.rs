//! "Did you mean ...?": the names closest to one that was not found, for commands that
//! take a name (a method, a topic, a type) and should answer a typo with the right one.
//!
//! Closeness is the edit distance (one letter inserted, deleted or replaced, or two
//! neighbours swapped, counts one), ignoring case. A dotted candidate is also compared by its last segment,
//! so `evaluate` finds `calc.evaluate` and `calc.evalute` finds it too.

/// The candidates closest to `name`, nearest first (ties in the candidates' order),
/// at most five, or none when nothing is close.
///
/// A candidate is close when its distance to `name` is at most a third of `name`'s
/// length (at least 1), and not every letter is replaced: `ad` finds `add`,
/// `calc.evalute` finds `calc.evaluate`, `c` finds nothing in `["a", "b"]`. Only the
/// nearest distance found is kept, so a typo of one letter is not drowned among names
/// two letters away. A candidate equal to `name` is not a suggestion.
///
/// ```
/// use volley_cli::suggest::closest;
///
/// let names = ["add", "divide", "calc.evaluate"];
/// assert_eq!(closest("calc.evalute", names), ["calc.evaluate"]);
/// assert_eq!(closest("evaluate", names), ["calc.evaluate"]);
/// assert_eq!(closest("ad", names), ["add"]);
/// assert_eq!(closest("dviide", names), ["divide"]);
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
        // Edits that replace every letter are no resemblance (`c` is not close to `a`).
        let close = |other: &[char]| {
            let d = distance(&wanted, other);
            (d < wanted.len().max(other.len())).then_some(d)
        };
        let whole: Vec<char> = candidate.to_lowercase().chars().collect();
        let last: Option<Vec<char>> = candidate.rsplit_once('.').map(|(_, last)| last.to_lowercase().chars().collect());
        let d = [close(&whole), last.and_then(|l| close(&l))].into_iter().flatten().min();
        if let Some(d) = d.filter(|d| *d <= limit) {
            scored.push((d, candidate));
        }
    }
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else {
        return vec![];
    };
    scored.into_iter().filter(|(d, _)| *d == best).map(|(_, c)| c).take(5).collect()
}

/// The edit distance between two strings of characters, with two neighbours swapped
/// counting one edit (the optimal string alignment distance).
fn distance(a: &[char], b: &[char]) -> usize {
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
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
        assert_eq!(d("divide", "divdie"), 1, "a swap is one edit");
        assert_eq!(d("ca", "abc"), 3);
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
        assert!(closest("c", ["a", "b"]).is_empty(), "a name replaced whole is not close");
        assert_eq!(closest("c", ["a", "cc"]), ["cc"]);
    }

    #[test]
    fn ties_keep_the_candidates_order_and_duplicates_are_dropped() {
        assert_eq!(closest("cat", ["bat", "cot", "bat", "car"]), ["bat", "cot", "car"]);
        let many = ["ab1", "ab2", "ab3", "ab4", "ab5", "ab6"];
        assert_eq!(closest("ab", many).len(), 5);
    }
}
