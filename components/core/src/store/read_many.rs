//! The rules of `read-many`, shared by every backend: the bound on the number of reads, and
//! how a batch is served (its gets as one `get-many`, its queries each as `query`), with
//! every answer put back in the order of the reads.

use super::StoreError;

/// Most reads one `read-many` takes: a batch is what one operation needs before deciding,
/// never a bulk export.
pub const MAX_READ_MANY: usize = 100;

/// Refuses more than [`MAX_READ_MANY`] reads.
pub fn check_count(reads: usize) -> Result<(), StoreError> {
    if reads > MAX_READ_MANY {
        return Err(StoreError::Invalid(format!(
            "read-many takes at most {MAX_READ_MANY} reads, got {reads}; split the batch"
        )));
    }
    Ok(())
}

/// Where one read's answer is found once the batch is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The n-th key of the batch's one `get-many`.
    Get(usize),
    /// The n-th query of the batch.
    Query(usize),
}

/// The slot of each read, in read order; `is_get` tells a get from a query.
pub fn slots<R>(reads: &[R], is_get: impl Fn(&R) -> bool) -> Vec<Slot> {
    let (mut gets, mut queries) = (0, 0);
    reads
        .iter()
        .map(|r| {
            if is_get(r) {
                gets += 1;
                Slot::Get(gets - 1)
            } else {
                queries += 1;
                Slot::Query(queries - 1)
            }
        })
        .collect()
}

/// The answers in read order, from the `get-many` answers and the query answers.
pub fn in_read_order<D, P, A>(
    slots: &[Slot],
    documents: Vec<Option<D>>,
    pages: Vec<P>,
    document: impl Fn(Option<D>) -> A,
    page: impl Fn(P) -> A,
) -> Vec<A> {
    let mut documents: Vec<Option<Option<D>>> = documents.into_iter().map(Some).collect();
    let mut pages: Vec<Option<P>> = pages.into_iter().map(Some).collect();
    slots
        .iter()
        .map(|slot| match *slot {
            Slot::Get(i) => document(documents[i].take().expect("one answer per get")),
            Slot::Query(i) => page(pages[i].take().expect("one answer per query")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_back_in_read_order() {
        let reads = ["g", "q", "g", "q", "q"];
        let slots = slots(&reads, |r| *r == "g");
        assert_eq!(
            slots,
            [
                Slot::Get(0),
                Slot::Query(0),
                Slot::Get(1),
                Slot::Query(1),
                Slot::Query(2)
            ]
        );
        let answers = in_read_order(
            &slots,
            vec![Some("d0"), None],
            vec!["p0", "p1", "p2"],
            |d| format!("doc {d:?}"),
            |p| format!("page {p}"),
        );
        assert_eq!(
            answers,
            [
                "doc Some(\"d0\")",
                "page p0",
                "doc None",
                "page p1",
                "page p2"
            ]
        );
    }

    #[test]
    fn more_than_the_bound_is_refused() {
        assert!(check_count(MAX_READ_MANY).is_ok());
        let refused = check_count(MAX_READ_MANY + 1).unwrap_err();
        assert!(matches!(refused, StoreError::Invalid(m) if m.contains("at most 100")));
    }
}
