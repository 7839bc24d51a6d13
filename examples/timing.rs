use std::time::Instant;
fn main() -> anyhow::Result<()> {
    let config = rollcall::config::Config::default();
    let t = Instant::now();
    let mut engine = rollcall::vision::FaceEngine::load(&config)?;
    println!("load {:?}", t.elapsed());
    for p in std::env::args().skip(1) {
        let bytes = std::fs::read(&p)?;
        let t = Instant::now();
        let img = rollcall::vision::decode_image(&bytes, u64::MAX)?;
        let t1 = t.elapsed();
        let t = Instant::now();
        let prep = rollcall::vision::prepare_input(&img, 640);
        let t2 = t.elapsed();
        let t = Instant::now();
        let dets = engine.detect(&img)?;
        let t3 = t.elapsed();
        let t = Instant::now();
        let chips: Vec<_> = dets
            .iter()
            .map(|d| rollcall::vision::align_face(&img, &d.landmarks))
            .collect();
        let t4 = t.elapsed();
        let t = Instant::now();
        let e = engine.embedder().embed(&chips)?;
        let t5 = t.elapsed();
        println!(
            "{p} {}x{} decode {t1:?} prep {t2:?} detect {t3:?} align {t4:?} embed {t5:?} faces {} {:?}",
            img.width(),
            img.height(),
            e.len(),
            prep.tensor.shape()
        );
    }
    Ok(())
}
