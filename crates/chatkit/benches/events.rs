//! ChatKit event serialization (the per-event cost of every streamed reply) and request parsing:
//! `cargo bench -p chatkit`.

use std::hint::black_box;

use chatkit::{ThreadStreamEvent, sse_frame};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn event(json: &str) -> ThreadStreamEvent {
    serde_json::from_str(json).expect("a valid ChatKit event")
}

fn events(c: &mut Criterion) {
    let delta = event(
        r#"{"type":"thread.item.updated","item_id":"msg_06796765","update":{"type":"assistant_message.content_part.text_delta","content_index":0,"delta":"milk "}}"#,
    );
    let reply = "Done. I added buy milk to your list; it is due tomorrow at 5 PM and tagged errands, shout if that is wrong.";
    let done = event(&format!(
        r#"{{"type":"thread.item.done","item":{{"id":"msg_06796765","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.580015","type":"assistant_message","content":[{{"annotations":[],"text":"{reply}","type":"output_text"}}]}}}}"#
    ));
    let created = event(
        r#"{"type":"thread.created","thread":{"id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.558740","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}}"#,
    );
    let mut group = c.benchmark_group("sse_frame");
    group.throughput(Throughput::Elements(1));
    group.bench_function("text_delta", |b| b.iter(|| sse_frame(black_box(&delta))));
    group.bench_function("assistant_message done", |b| b.iter(|| sse_frame(black_box(&done))));
    group.bench_function("thread.created", |b| b.iter(|| sse_frame(black_box(&created))));
    group.finish();

    let request = br#"{"type":"threads.create","params":{"input":{"content":[{"type":"input_text","text":"add buy milk tomorrow at 5pm"}],"attachments":[],"inference_options":{}}}}"#;
    c.bench_function("Request::from_slice threads.create", |b| {
        b.iter(|| chatkit::Request::from_slice(black_box(request)).expect("a valid request"))
    });
    c.bench_function("deserialize text_delta event", |b| {
        b.iter(|| {
            serde_json::from_str::<ThreadStreamEvent>(black_box(
                r#"{"type":"thread.item.updated","item_id":"msg_1","update":{"type":"assistant_message.content_part.text_delta","content_index":0,"delta":"milk "}}"#,
            ))
        })
    });
}

criterion_group!(benches, events);
criterion_main!(benches);
