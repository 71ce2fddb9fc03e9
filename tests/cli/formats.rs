//! The same transcript in JSONL, CSV and Parquet yields identical views.

use crate::util::{Scratch, sql_csv, zhijian};

const JSONL: &str = r#"{"shop":"s1","channel":"tmall","session_id":"a","msg_id":"1","ts":"2026-11-11T10:00:00+08:00","role":"customer","agent_id":null,"customer_id":"u1","text":"在吗, 有货吗?","msg_type":"text"}
{"shop":"s1","channel":"tmall","session_id":"a","msg_id":"2","ts":"2026-11-11T10:00:00+08:00","role":"customer","agent_id":null,"customer_id":"u1","text":"","msg_type":"image"}
{"shop":"s1","channel":"tmall","session_id":"a","msg_id":"3","ts":"2026-11-11T10:00:42.5+08:00","role":"agent","agent_id":"店:小美","customer_id":null,"text":"亲, 有的哦 ＶＸ","msg_type":"text"}
{"shop":"s1","channel":"tmall","session_id":"a","msg_id":"4","ts":"2026-11-11T23:59:59+08:00","role":"customer","agent_id":null,"customer_id":"u1","text":"\"引号\"\n换行","msg_type":"text"}
{"shop":"s2","channel":"jd","session_id":"b","msg_id":"1","ts":"2026-11-12T00:10:00+08:00","role":"customer","agent_id":null,"customer_id":null,"text":"催发货","msg_type":"text"}
{"shop":"s2","channel":"jd","session_id":"b","msg_id":"2","ts":"2026-11-12T00:10:03+08:00","role":"bot","agent_id":null,"customer_id":null,"text":"48小时内发货","msg_type":"text"}
"#;

const CSV: &str = "shop,channel,session_id,msg_id,ts,role,agent_id,customer_id,text,msg_type
s1,tmall,a,1,2026-11-11 10:00:00,customer,,u1,\"在吗, 有货吗?\",text
s1,tmall,a,2,2026-11-11 10:00:00,customer,,u1,,image
s1,tmall,a,3,2026-11-11 10:00:42.5,agent,店:小美,,\"亲, 有的哦 ＶＸ\",text
s1,tmall,a,4,2026-11-11 23:59:59,customer,,u1,\"\"\"引号\"\"
换行\",text
s2,jd,b,1,2026-11-12 00:10:00,customer,,,催发货,text
s2,jd,b,2,1794413403000,bot,,,48小时内发货,text
";

const MESSAGES: &str = "SELECT shop, channel, session_id, msg_id, ts, role, agent_id, customer_id, text, msg_type, \
    seq, local_date, local_time, norm_text, session_date FROM messages ORDER BY shop, session_id, seq";
const ROUNDS: &str = "SELECT * FROM rounds ORDER BY shop, session_id, round_no";

#[test]
fn jsonl_csv_and_parquet_give_the_same_views() {
    let scratch = Scratch::new();
    let jsonl = scratch.write("t.jsonl", JSONL);
    let csv = scratch.write("t.csv", CSV);
    let dataset = scratch.path("dataset");
    zhijian()
        .args(["ingest", "--input"])
        .arg(&jsonl)
        .arg("--out")
        .arg(&dataset)
        .assert()
        .success();
    assert!(dataset.join("date=2026-11-11/part-00000.parquet").is_file());
    assert!(dataset.join("date=2026-11-12/part-00000.parquet").is_file());

    for query in [
        MESSAGES,
        ROUNDS,
        "SELECT * FROM sessions ORDER BY shop",
        "SELECT * FROM agent_sessions",
    ] {
        let from_jsonl = sql_csv(&jsonl, query);
        assert_eq!(from_jsonl, sql_csv(&csv, query), "CSV differs for {query}");
        assert_eq!(
            from_jsonl,
            sql_csv(&dataset, query),
            "Parquet differs for {query}"
        );
    }
    let messages = sql_csv(
        &jsonl,
        "SELECT msg_id, norm_text, local_time FROM messages WHERE msg_id = '3'",
    );
    assert_eq!(
        messages,
        "msg_id,norm_text,local_time\n3,亲,有的哦vx,10:00:42.500\n".replace("亲,有的哦vx", "\"亲,有的哦vx\"")
    );
}
