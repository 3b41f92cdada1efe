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
use crate::projection::{table_sql, Arg, Index, Projection, Tables};
use crate::{on_db, on_tx};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use konsortium_domain::calendar::Month;
use konsortium_domain::invoice::{Invoice, InvoiceEvent};
use konsortium_domain::payout::{LedgerEvent, MemberPayouts, StatementLine};

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

/// Inserts the rows that are not there yet, then sets `flag` to 1 on all of them (none for an
/// issued invoice's rows) and recomputes `open`.
async fn write(tx: &mut Tx, table: &str, facts: &[Fact], flags: &[&str], position: i64) -> Result<(), DbError> {
    for fact in facts {
        let insert = format!(
            "INSERT INTO {table} (fact_key, invoice_id, member_id, month, credited, settled, reversed, open, position) \
             VALUES ($1, $2, $3, $4, 0, 0, 0, 1, $5) ON CONFLICT (fact_key) DO NOTHING"
        );
        let args = [
            Arg::text(fact.key.as_str()),
            Arg::text(fact.invoice_id.as_str()),
            Arg::text(fact.member_id.as_str()),
            Arg::text(fact.month.to_string()),
            Arg::int(position),
        ];
        on_tx!(tx, conn => bind_args!(sqlx::query(&insert), &args).execute(conn).await.map(|_| ()))?;
        let mut set: Vec<String> = flags.iter().map(|flag| format!("{flag} = 1")).collect();
        set.push("position = $2".to_string());
        let update = format!("UPDATE {table} SET {} WHERE fact_key = $1", set.join(", "));
        on_tx!(tx, conn => sqlx::query(&update).bind(&fact.key).bind(position).execute(conn).await.map(|_| ()))?;
        let open = format!("UPDATE {table} SET open = {OPEN} WHERE fact_key = $1");
        on_tx!(tx, conn => sqlx::query(&open).bind(&fact.key).execute(conn).await.map(|_| ()))?;
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
            Invoice::TYPE => match event.decode::<InvoiceEvent>()? {
                InvoiceEvent::InvoiceIssued { document, .. } => {
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
                InvoiceEvent::InvoiceCredited { .. } => {
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
                InvoiceEvent::PaymentRegistered { .. } => {}
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
