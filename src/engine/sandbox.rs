//! Read-only SQL: trainers' and analysts' queries may read the views and nothing
//! else. DDL, DML (`COPY`, `INSERT`), `SET` and other statements are refused, and
//! so is reading files by path.

use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{DataFrame, SessionContext};

use crate::error::{Error, Result};

fn options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Plans `sql` under the read-only options; refusals say what is allowed.
pub async fn read_only_sql(ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    match ctx.sql_with_options(sql, options()).await {
        Ok(frame) => Ok(frame),
        Err(err) => {
            let text = err.to_string();
            let refused = [
                "DDL not supported",
                "DML not supported",
                "Statement not supported",
            ];
            if refused.iter().any(|r| text.contains(r)) {
                Err(Error::Refused(format!(
                    "only SELECT queries over the views (messages, rounds, sessions, agent_sessions) are allowed: {}",
                    text.trim_start_matches("Error during planning: ")
                )))
            } else {
                Err(Error::DataFusion(err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_and_file_access_are_refused() {
        let ctx = SessionContext::new();
        for sql in [
            "CREATE TABLE t AS SELECT 1",
            "DROP TABLE messages",
            "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
            "COPY (SELECT 1) TO '/tmp/zhijian-copy.csv'",
            "INSERT INTO messages VALUES (1)",
            "SET datafusion.execution.batch_size = 1",
            "CREATE VIEW v AS SELECT 1",
        ] {
            let err = read_only_sql(&ctx, sql).await.expect_err(sql).to_string();
            assert!(
                err.contains("refused") || err.contains("not found"),
                "{sql}: {err}"
            );
        }
        let err = read_only_sql(&ctx, "SELECT * FROM '/etc/passwd'")
            .await
            .expect_err("path");
        assert!(err.to_string().contains("not found"), "{err}");
        assert!(read_only_sql(&ctx, "SELECT 1 + 1").await.is_ok());
    }
}
