//! `view_settlement`: one row per member's month on an issued invoice (the payout run's "invoiced
//! fact"), with whether the invoice is credited and whether the member's ledger has settled the
//! month and carried its reversal. A row is `open` while the statement run still has something to
//! do with it: an uncredited month nobody has paid out, or a paid-out month whose invoice was
//! credited and whose reversal no statement carried yet.
//!
//! Why it exists: the statement run and the reconciliation used to load every invoice ever issued
//! (and every report on them) to find the few months still to settle, so each run took longer
//! than the one before. Now they load only the invoices with an open row. The run still decides on
//! the invoices and ledgers themselves; this table only says which to load, so a row that lags
//! behind a commit delays a month to the next run and can never pay one twice (the ledger's
//! optimistic lock does that).

use crate::bind_args;
use crate::db::{Db, DbError, Tx};
use crate::event_log::StoredEvent;
use crate::projection::{insert_rows_sql, placeholders, table_sql, Arg, Index, Projection, Tables, ROWS_PER_STATEMENT};
use crate::{on_db, on_tx};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use konsortium_domain::calendar::Month;
use konsortium_domain::invoice::Invoice;
use konsortium_domain::payout::{LedgerEvent, MemberPayouts, StatementLine};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const TABLE: &str = "view_settlement";
pub const COLUMNS: &[&str] =
    &["fact_key", "invoice_id", "member_id", "month", "credited", "settled", "reversed", "open", "position"];

/// The member of a goods-and-services month's row on an invoice issued before invoices named the
/// members earning from it: such a row stays open until its invoice is credited, so the run keeps
/// loading that invoice rather than miss a member's share.
const ANY_MEMBER: &str = "*";

/// When a row is open, from its own flags (evaluated after they are written).
const OPEN: &str = "CASE WHEN member_id = '*' AND credited = 0 THEN 1 \
                    WHEN credited = 0 AND settled = 0 THEN 1 \
                    WHEN credited = 1 AND settled = 1 AND reversed = 0 THEN 1 ELSE 0 END";

/// The same key the payout ledger gives an invoiced month (`invoice/report`).
fn fact_key(invoice_id: &str, report_id: &str) -> String {
    format!("{invoice_id}/{report_id}")
}

pub struct SettlementProjection;

/// An `InvoiceEvent` as this view reads it: of an issued invoice only whose months it holds, not
/// its lines and XML (hundreds of KB on a national invoice, which a month-end run issues by the
/// hundred while this projection keeps up beside it).
#[derive(Deserialize)]
enum InvoiceFacts {
    InvoiceIssued { document: IssuedMonths },
    InvoiceCredited(IgnoredAny),
    PaymentRegistered(IgnoredAny),
}

#[derive(Deserialize)]
struct IssuedMonths {
    months: Vec<InvoicedMonth>,
    #[serde(default)]
    deliveries: Vec<InvoicedDeliveries>,
}

#[derive(Deserialize)]
struct InvoicedMonth {
    report_id: String,
    member_id: String,
    month: Month,
}

#[derive(Deserialize)]
struct InvoicedDeliveries {
    deliveries_id: String,
    month: Month,
    #[serde(default)]
    members: Vec<String>,
}

/// A row as an event first writes it.
struct Fact {
    key: String,
    invoice_id: String,
    member_id: String,
    month: Month,
}

impl Fact {
    fn of_line(line: &StatementLine, member_id: &str) -> Fact {
        Fact {
            key: fact_key(&line.invoice_id, &line.report_id),
            invoice_id: line.invoice_id.clone(),
            member_id: member_id.to_string(),
            month: line.month,
        }
    }
}

/// Whether a row is open, as [`OPEN`] says in SQL.
fn open(member_id: &str, credited: bool, settled: bool, reversed: bool) -> bool {
    match (credited, settled, reversed) {
        (false, false, _) | (true, true, false) => true,
        (false, true, _) => member_id == ANY_MEMBER,
        _ => false,
    }
}

/// Writes `facts` with `flags` set to 1, a few multi-row statements for a whole event (an issued
/// national invoice holds hundreds of months): new rows are inserted as they are; rows already
/// there get the flags and have `open` recomputed.
async fn write(tx: &mut Tx, table: &str, facts: &[Fact], flags: &[&str], position: i64) -> Result<(), DbError> {
    let unique: BTreeMap<&str, &Fact> = facts.iter().map(|f| (f.key.as_str(), f)).collect();
    let facts: Vec<&Fact> = unique.into_values().collect();
    let (credited, settled, reversed) =
        (flags.contains(&"credited"), flags.contains(&"settled"), flags.contains(&"reversed"));
    let on_conflict = match flags.is_empty() {
        true => "ON CONFLICT (fact_key) DO NOTHING".to_string(),
        false => {
            let set: Vec<String> = flags.iter().map(|flag| format!("{flag} = 1")).collect();
            format!("ON CONFLICT (fact_key) DO UPDATE SET {}, position = excluded.position", set.join(", "))
        }
    };
    for chunk in facts.chunks(ROWS_PER_STATEMENT) {
        let mut args = Vec::with_capacity(chunk.len() * COLUMNS.len());
        for fact in chunk {
            args.extend([
                Arg::text(fact.key.as_str()),
                Arg::text(fact.invoice_id.as_str()),
                Arg::text(fact.member_id.as_str()),
                Arg::text(fact.month.to_string()),
                Arg::int(i64::from(credited)),
                Arg::int(i64::from(settled)),
                Arg::int(i64::from(reversed)),
                Arg::int(i64::from(open(&fact.member_id, credited, settled, reversed))),
                Arg::int(position),
            ]);
        }
        let insert = insert_rows_sql(table, COLUMNS, chunk.len(), &on_conflict);
        let insert = tx.sql(insert);
        on_tx!(tx, conn => bind_args!(sqlx::query(&insert), &args).execute(conn).await.map(|_| ()))?;
        if !flags.is_empty() {
            let update = format!("UPDATE {table} SET open = {OPEN} WHERE fact_key IN ({})", placeholders(chunk.len()));
            let update = tx.sql(update);
            let keys: Vec<Arg> = chunk.iter().map(|f| Arg::text(f.key.as_str())).collect();
            on_tx!(tx, conn => bind_args!(sqlx::query(&update), &keys).execute(conn).await.map(|_| ()))?;
        }
    }
    Ok(())
}

#[async_trait]
impl Projection for SettlementProjection {
    fn name(&self) -> &'static str {
        "settlement"
    }

    fn version(&self) -> u32 {
        1
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[Invoice::TYPE, MemberPayouts::TYPE]
    }

    fn tables(&self) -> Vec<&'static str> {
        vec![TABLE]
    }

    fn create_sql(&self, tables: Tables) -> Vec<String> {
        let columns: Vec<String> = [
            "fact_key TEXT NOT NULL",
            "invoice_id TEXT NOT NULL",
            "member_id TEXT NOT NULL",
            "month TEXT NOT NULL",
            "credited BIGINT NOT NULL",
            "settled BIGINT NOT NULL",
            "reversed BIGINT NOT NULL",
            "open BIGINT NOT NULL",
            "position BIGINT NOT NULL",
        ]
        .map(String::from)
        .to_vec();
        table_sql(
            &tables.name(TABLE),
            &columns,
            "fact_key",
            &[
                Index::new("open", "open, month, invoice_id"),
                Index::new("invoice", "invoice_id"),
                Index::new("month", "month"),
            ],
        )
    }

    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError> {
        let table = tables.name(TABLE);
        let position = event.checkpoint.position;
        match event.aggregate_type.as_str() {
            Invoice::TYPE => match event.decode::<InvoiceFacts>()? {
                InvoiceFacts::InvoiceIssued { document } => {
                    let invoice_id = event.aggregate_id.as_str();
                    let mut facts: Vec<Fact> = document
                        .months
                        .iter()
                        .map(|m| Fact {
                            key: fact_key(invoice_id, &m.report_id),
                            invoice_id: invoice_id.to_string(),
                            member_id: m.member_id.clone(),
                            month: m.month,
                        })
                        .collect();
                    for delivered in &document.deliveries {
                        let members: Vec<&str> = match delivered.members.is_empty() {
                            true => vec![ANY_MEMBER],
                            false => delivered.members.iter().map(String::as_str).collect(),
                        };
                        facts.extend(members.into_iter().map(|member_id| Fact {
                            key: fact_key(invoice_id, &format!("{}:{member_id}", delivered.deliveries_id)),
                            invoice_id: invoice_id.to_string(),
                            member_id: member_id.to_string(),
                            month: delivered.month,
                        }));
                    }
                    write(tx, &table, &facts, &[], position).await?;
                }
                InvoiceFacts::InvoiceCredited(_) => {
                    let update = format!("UPDATE {table} SET credited = 1, position = $2 WHERE invoice_id = $1");
                    on_tx!(tx, conn => sqlx::query(&update)
                        .bind(&event.aggregate_id)
                        .bind(position)
                        .execute(conn)
                        .await
                        .map(|_| ()))?;
                    let open = format!("UPDATE {table} SET open = {OPEN} WHERE invoice_id = $1");
                    on_tx!(tx, conn => sqlx::query(&open).bind(&event.aggregate_id).execute(conn).await.map(|_| ()))?;
                }
                InvoiceFacts::PaymentRegistered(_) => {}
            },
            MemberPayouts::TYPE => {
                let LedgerEvent::StatementIssued { statement } = event.decode::<LedgerEvent>()?;
                let member = event.aggregate_id.as_str();
                let settled: Vec<Fact> = statement.lines.iter().map(|l| Fact::of_line(l, member)).collect();
                write(tx, &table, &settled, &["settled"], position).await?;
                let reversed: Vec<Fact> = statement.adjustments.iter().map(|l| Fact::of_line(l, member)).collect();
                write(tx, &table, &reversed, &["settled", "credited", "reversed"], position).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Invoices with a row still open whose month is `month` or earlier, by id: the invoices a
/// statement run for `month` loads.
pub async fn open_invoices_until(db: &Db, month: Month) -> Result<Vec<String>, DbError> {
    let select = format!("SELECT DISTINCT invoice_id FROM {TABLE} WHERE open = 1 AND month <= $1 ORDER BY invoice_id");
    let month = month.to_string();
    Ok(on_db!(db, pool => sqlx::query_scalar(&select).bind(&month).fetch_all(pool).await)?)
}

/// Whether any issued invoice, credited or not, holds a member's month `month`.
pub async fn any_invoiced(db: &Db, month: Month) -> Result<bool, DbError> {
    let select = format!("SELECT 1 FROM {TABLE} WHERE month = $1 LIMIT 1");
    let month = month.to_string();
    let found: Option<i32> = on_db!(db, pool => sqlx::query_scalar(&select).bind(&month).fetch_optional(pool).await)?;
    Ok(found.is_some())
}
