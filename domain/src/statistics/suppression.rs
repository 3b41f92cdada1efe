//! Small-cell suppression (DESIGN decision 7): a buyer never sees a statistic on fewer than five
//! people, nor a cell it could work out from the others and a total.

/// The fewest people a published cell may count.
pub const MIN_CELL: i64 = 5;

/// Which cells of a table of counts (rows × columns) to withhold. Primary: every cell under
/// [`MIN_CELL`], zero included (a zero tells that nobody in a group left that way). Secondary: a
/// row or column with exactly one withheld cell would give it away by its total (which a reader
/// can get from another table or from the agreement's own figures), so the smallest other cell of
/// that row or column is withheld too; repeated until no row or column has a single withheld cell.
pub fn suppressed(table: &[Vec<i64>]) -> Vec<Vec<bool>> {
    let mut hidden: Vec<Vec<bool>> = table.iter().map(|row| row.iter().map(|&n| n < MIN_CELL).collect()).collect();
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    loop {
        let mut changed = false;
        for r in 0..table.len() {
            let cells: Vec<(usize, usize)> = (0..table[r].len()).map(|c| (r, c)).collect();
            changed |= hide_second(table, &mut hidden, &cells);
        }
        for c in 0..columns {
            let cells: Vec<(usize, usize)> = (0..table.len()).filter(|&r| c < table[r].len()).map(|r| (r, c)).collect();
            changed |= hide_second(table, &mut hidden, &cells);
        }
        if !changed {
            return hidden;
        }
    }
}

/// In one line of cells with exactly one withheld, withholds the smallest other; says whether it did.
fn hide_second(table: &[Vec<i64>], hidden: &mut [Vec<bool>], cells: &[(usize, usize)]) -> bool {
    if cells.iter().filter(|&&(r, c)| hidden[r][c]).count() != 1 {
        return false;
    }
    let smallest = cells.iter().filter(|&&(r, c)| !hidden[r][c]).min_by_key(|&&(r, c)| table[r][c]);
    match smallest {
        Some(&(r, c)) => {
            hidden[r][c] = true;
            true
        }
        None => false,
    }
}
