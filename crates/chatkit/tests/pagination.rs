//! Cursor pagination with equal timestamps, through the store and through the server.

use std::collections::HashSet;

use chatkit::{ItemKind, MemoryStore, SortOrder, Store, ThreadItem, ThreadMetadata};
use serde_json::{Value, json};

mod common;
use common::*;

const ITEM_COUNT: usize = 45;

/// A thread whose 45 items (every 9th hidden) all share one timestamp.
async fn thread_with_tied_items(store: &MemoryStore) -> (String, Vec<String>) {
    let owner = ALICE.to_owned();
    let thread = ThreadMetadata::new("thr_tied");
    store.save_thread(&thread, &owner).await.expect("save");
    let created_at = chatkit::timestamp::now();
    let mut ids = Vec::new();
    for index in 0..ITEM_COUNT {
        // Ids deliberately not in insertion order, so only the sequence can order them.
        let id = format!("msg_{:02}", (index * 7) % ITEM_COUNT);
        let kind = if index % 9 == 8 {
            ItemKind::HiddenContext {
                content: json!(index),
            }
        } else {
            ItemKind::EndOfTurn
        };
        let item = ThreadItem {
            id: id.clone(),
            thread_id: thread.id.clone(),
            created_at,
            kind,
        };
        store
            .add_thread_item(&thread.id, &item, &owner)
            .await
            .expect("add");
        ids.push(id);
    }
    (thread.id, ids)
}

#[tokio::test]
async fn store_pages_neither_skip_nor_repeat_tied_items() {
    let store = MemoryStore::new();
    let owner = ALICE.to_owned();
    let (thread_id, inserted) = thread_with_tied_items(&store).await;
    for order in [SortOrder::Asc, SortOrder::Desc] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store
                .load_thread_items(&thread_id, after.as_deref(), 20, order, &owner)
                .await
                .expect("page");
            assert_eq!(page.after.is_some(), page.has_more);
            if page.has_more {
                assert_eq!(
                    page.after.as_deref(),
                    page.data.last().map(|item| item.id.as_str())
                );
            }
            seen.extend(page.data.into_iter().map(|item| item.id));
            if !page.has_more {
                break;
            }
            after = page.after;
        }
        let mut expected = inserted.clone();
        if order == SortOrder::Desc {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order:?}");
    }
}

#[tokio::test]
async fn items_list_pages_through_the_server_with_hidden_items_filtered_after_paging() {
    let server = server(|_, _| events_stream(vec![]));
    let (thread_id, inserted) = thread_with_tied_items(server.store()).await;
    let mut pages = Vec::new();
    let mut after = Value::Null;
    loop {
        let request = body(json!({"type": "items.list",
            "params": {"thread_id": thread_id, "limit": 20, "order": "asc", "after": after}}));
        let page = expect_json(process(&server, &request, ALICE).await);
        let ids: Vec<Value> = page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|item| item["id"].clone())
            .collect();
        pages.push(json!({"ids": ids, "has_more": page["has_more"], "after": page.get("after").cloned().unwrap_or(json!("<absent>"))}));
        if page["has_more"] == false {
            break;
        }
        after = page["after"].clone();
    }
    insta::assert_json_snapshot!(pages);

    let visible: Vec<String> = pages
        .iter()
        .flat_map(|page| {
            page["ids"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|id| id.as_str().expect("str").to_owned())
        })
        .collect();
    let unique: HashSet<&String> = visible.iter().collect();
    assert_eq!(unique.len(), visible.len(), "no repeats");
    let expected: Vec<String> = inserted
        .iter()
        .enumerate()
        .filter(|(index, _)| index % 9 != 8)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(visible, expected, "no skips");
}

#[tokio::test]
async fn threads_list_pages_tied_threads_newest_first_by_default() {
    let server = server(|_, _| events_stream(vec![]));
    let owner = ALICE.to_owned();
    let created_at = chatkit::timestamp::now();
    for index in 0..25 {
        let mut thread = ThreadMetadata::new(format!("thr_{:02}", 24 - index));
        thread.created_at = created_at;
        server
            .store()
            .save_thread(&thread, &owner)
            .await
            .expect("save");
    }
    let first = expect_json(
        process(
            &server,
            &body(json!({"type": "threads.list", "params": {"limit": 0}})),
            ALICE,
        )
        .await,
    );
    assert_eq!(first["data"].as_array().expect("data").len(), 20);
    assert_eq!(first["has_more"], true);
    assert_eq!(
        first["data"][0]["id"], "thr_00",
        "newest (last saved) first"
    );
    let second = expect_json(
        process(
            &server,
            &body(json!({"type": "threads.list", "params": {"after": first["after"]}})),
            ALICE,
        )
        .await,
    );
    let ids: Vec<&str> = second["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|thread| thread["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["thr_20", "thr_21", "thr_22", "thr_23", "thr_24"]);
    assert_eq!(second["has_more"], false);
    assert!(second.get("after").is_none());
}

#[tokio::test]
async fn memory_store_scopes_by_owner_and_deletes_after_an_item() {
    let store = MemoryStore::new();
    let (alice, bob) = (ALICE.to_owned(), BOB.to_owned());
    let (thread_id, inserted) = thread_with_tied_items(&store).await;
    assert!(matches!(
        store.load_thread(&thread_id, &bob).await,
        Err(chatkit::StoreError::NotFound)
    ));
    assert!(matches!(
        store.load_item(&thread_id, &inserted[0], &bob).await,
        Err(chatkit::StoreError::NotFound)
    ));
    let mut hijack = ThreadMetadata::new(thread_id.clone());
    hijack.title = Some("mine now".into());
    assert!(matches!(
        store.save_thread(&hijack, &bob).await,
        Err(chatkit::StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_thread(&thread_id, &bob).await,
        Err(chatkit::StoreError::NotFound)
    ));

    store
        .delete_thread_items_after(&thread_id, &inserted[9], &alice)
        .await
        .expect("delete after");
    let left = store
        .load_thread_items(&thread_id, None, 100, SortOrder::Asc, &alice)
        .await
        .expect("items");
    let left: Vec<String> = left.data.into_iter().map(|item| item.id).collect();
    assert_eq!(left, inserted[..10]);
}
