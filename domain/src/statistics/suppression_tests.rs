use super::suppression::suppressed;

#[test]
fn every_cell_under_five_is_withheld() {
    let table = vec![vec![4, 0], vec![5, 12]];
    let hidden = suppressed(&table);
    assert!(hidden[0][0] && hidden[0][1]);
}

#[test]
fn a_lone_small_cell_takes_the_smallest_other_of_its_row_and_column_with_it() {
    // Row 0 has one small cell (3), so its smallest other (6) goes too. Column 0 then has only the 3
    // withheld, so the 9 goes; column 1 only the 6, so the 7 goes; every line now hides two or none.
    let table = vec![vec![3, 6, 20], vec![9, 7, 30]];
    let hidden = suppressed(&table);
    assert_eq!(hidden, vec![vec![true, true, false], vec![true, true, false]]);
    for (r, row) in hidden.iter().enumerate() {
        assert_ne!(row.iter().filter(|h| **h).count(), 1, "row {r} would give its hidden cell away");
    }
}

#[test]
fn large_cells_stay_exact() {
    let table = vec![vec![5, 6], vec![7, 8]];
    assert!(suppressed(&table).iter().flatten().all(|h| !h));
}
