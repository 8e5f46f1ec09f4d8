use audit_testkit::PgDatabase;
use sqlx::{Connection, PgConnection, Row};

async fn database_exists(name: &str) -> bool {
    let admin = format!("{}/postgres", audit_testkit::pg_server_url());
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("admin connection");
    let row = sqlx::query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .expect("query pg_database");
    row.get::<i64, _>("n") == 1
}

#[tokio::test]
async fn creates_isolated_databases_and_drops_them() {
    let a = PgDatabase::create().await.expect("database a");
    let b = PgDatabase::create().await.expect("database b");
    assert_ne!(a.name(), b.name());
    assert!(a.url().ends_with(a.name()));

    let mut conn = PgConnection::connect(a.url()).await.expect("connect to a");
    sqlx::query("CREATE TABLE t (x int)")
        .execute(&mut conn)
        .await
        .expect("create table in a");
    let mut conn_b = PgConnection::connect(b.url()).await.expect("connect to b");
    let tables: i64 = sqlx::query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 't'")
        .fetch_one(&mut conn_b)
        .await
        .expect("query b")
        .get("n");
    assert_eq!(tables, 0, "databases are isolated");

    let name_a = a.name().to_owned();
    // Dropping with a connection still open works (WITH (FORCE)).
    drop(a);
    assert!(!database_exists(&name_a).await);

    let name_b = b.name().to_owned();
    drop(conn_b);
    b.drop_database().await.expect("explicit drop");
    assert!(!database_exists(&name_b).await);
}
