//! Stand-alone migration runner: `migration [up|down|status]` against `DATABASE_URL`.
//! `rollcall migrate` does the same with rollcall's configuration.

use sea_orm_migration::{MigratorTrait, sea_orm::Database};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL, e.g. postgres://postgres@127.0.0.1/rollcall")?;
    let action = std::env::args().nth(1).unwrap_or_else(|| "up".to_owned());
    let db = Database::connect(&url).await?;
    match action.as_str() {
        "up" => migration::Migrator::up(&db, None).await?,
        "down" => migration::Migrator::down(&db, Some(1)).await?,
        "status" => {
            for m in migration::Migrator::get_migration_with_status(&db).await? {
                println!("{}\t{}", m.name(), m.status());
            }
        }
        other => return Err(format!("unknown action {other:?}: use up, down or status").into()),
    }
    Ok(())
}
