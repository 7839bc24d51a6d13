//! Broker faults during a run on the mock cluster: a broker down and back, every answer slow,
//! then two brokers down at once. The stages ride them out: the stored attendance equals that of
//! a run without faults over the same frames (0 lost, 0 counted twice).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_faults_during_a_run_lose_nothing_and_count_nothing_twice() {
    let kafka = TestKafka::mock();
    // The reference reads the same frames after the faults are over.
    let runs = TwoRuns::new(&kafka, 3).await;
    let faulty = runs.disturbed.clone();

    let stop = CancellationToken::new();
    let recognizer = spawn_recognize(&faulty, &stop);
    let projector = spawn_project(&faulty, &stop);
    let stream = tokio::spawn(stream_frames(faulty.clone()));
    // The stream takes 15 s; the faults fall inside it.
    let at = |seconds: u64| tokio::time::sleep(Duration::from_secs(seconds));
    at(3).await;
    kafka.set_broker_up(1, false);
    at(3).await;
    kafka.set_broker_up(1, true);
    kafka.set_round_trip(Duration::from_millis(400));
    at(3).await;
    kafka.set_round_trip(Duration::ZERO);
    kafka.set_broker_up(2, false);
    kafka.set_broker_up(3, false);
    at(2).await;
    kafka.set_broker_up(2, true);
    kafka.set_broker_up(3, true);
    stream.await.unwrap();

    assert_caught_up(&faulty, "the faults").await;
    stop.cancel();
    recognizer.await.unwrap().unwrap();
    projector.await.unwrap().unwrap();
    runs.run_reference().await;
    runs.assert_same_attendance().await;
}
