// `sqlx::migrate!` embeds the migrations at compile time; without this, a new migration file
// is left out of the build until some source file changes (what `sqlx migrate build-script`
// generates).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
