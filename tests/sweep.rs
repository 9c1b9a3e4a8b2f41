//! Scenario sweeps (`analysis::sweep`) and atomic output files (`report::output`).

use std::path::PathBuf;

use lifecost::analysis::sweep::{self, Axis, MAX_POINTS};
use lifecost::report::output::write_atomic;
use lifecost::{Error, Scenario, Simulation};

const PEER: &str = include_str!("scenarios/peer_model.toml");

fn peer() -> Scenario {
    Scenario::from_toml_str(PEER).unwrap()
}

fn axis(text: &str) -> Axis {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

// ── Axis parsing ────────────────────────────────────────────────────────────

#[test]
fn a_range_gives_evenly_spaced_values_with_both_ends() {
    let a = axis("hr_placement=0.5:1.0:11");
    assert_eq!(a.parameter, "hr_placement");
    assert_eq!(a.values.len(), 11);
    assert_eq!(a.values[0], 0.5);
    assert_eq!(a.values[10], 1.0);
    // The nearest doubles to the decimal steps, not accumulated rounding.
    assert_eq!(a.values[2], 0.6);
    assert_eq!(a.values[7], 0.85);
    for (i, v) in a.values.iter().enumerate() {
        assert!((v - (0.5 + 0.05 * i as f64)).abs() < 1e-15);
    }
    // Descending ranges and negative numbers work; count 1 is just `from`.
    assert_eq!(axis("x=1:-1:3").values, [1.0, 0.0, -1.0]);
    assert_eq!(axis("x=0.7:2:1").values, [0.7]);
    assert_eq!(axis("x=0:1:2").values, [0.0, 1.0]);
    assert_eq!(axis("cost=1_000:3_000:3").values, [1000.0, 2000.0, 3000.0]);
    // Near the limits of f64 the values stay finite.
    assert!(axis("x=-1e308:1e308:5").values.iter().all(|v| v.is_finite()));
}

#[test]
fn lists_and_single_values() {
    let a = axis("uptake=0.5,0.9");
    assert_eq!(a.parameter, "uptake");
    assert_eq!(a.values, [0.5, 0.9]);
    assert_eq!(axis(" uptake = 0.5 , 0.9 ").values, [0.5, 0.9]);
    assert_eq!(axis("rr=0.7").values, [0.7]);
    assert_eq!(axis("rr=-2e-3").values, [-0.002]);
    assert_eq!(axis("cost=1_400_000").values, [1_400_000.0]);
}

#[test]
fn bad_axes_are_refused_with_the_text_and_what_was_expected() {
    for text in [
        "hr=0.5:1",
        "hr=0.5:1:3:4",
        "hr=0.5:1:0",
        "hr=0.5:1:2.5",
        "hr=0.5:1:-1",
        "hr=a:1:3",
        "hr=0.5:1:1000001",
        "hr",
        "=0.5",
        "hr=",
        "hr=0.5,,0.9",
        "hr=0.5,",
        "hr=NaN",
        "hr=inf",
        "hr=1e400",
        "hr=_1",
        "hr=1__0",
    ] {
        let e = text.parse::<Axis>().expect_err(text);
        assert!(e.contains(&format!("`{text}`")), "{text}: {e}");
        assert!(e.contains("name=from:to:count"), "{text}: {e}");
        assert!(e.contains("name=v1,v2,…"), "{text}: {e}");
    }
    // Too many values in a list are refused too.
    let long = format!("hr={}", vec!["1"; MAX_POINTS + 1].join(","));
    assert!(long.parse::<Axis>().unwrap_err().contains(&MAX_POINTS.to_string()));
}

// ── Sweeps ──────────────────────────────────────────────────────────────────

#[test]
fn the_grid_has_every_combination_first_axis_slowest() {
    let s = Scenario::default_scenario().unwrap();
    let axes = [axis("hr_placement=0.6:1.0:3"), axis("tsi_uptake=0.5,0.9")];
    let points = sweep::sweep(&Simulation::new(&s), &s, &axes).unwrap();
    let grid: Vec<Vec<f64>> = points.iter().map(|p| p.values.clone()).collect();
    assert_eq!(
        grid,
        [[0.6, 0.5], [0.6, 0.9], [0.8, 0.5], [0.8, 0.9], [1.0, 0.5], [1.0, 0.9]]
    );
    let n_interventions = s.interventions().len();
    assert!(n_interventions >= 1);
    for p in &points {
        assert_eq!(p.rows.len(), n_interventions);
        assert_eq!(p.rows[0].intervention, "tsi");
    }
    // The effect matters: a smaller hazard ratio saves more, at the same uptake.
    let tsi = |k: usize| points[k].rows[0].savings.mean;
    assert!(tsi(0) > tsi(2) && tsi(2) > tsi(4));
    assert!(tsi(1) > tsi(0));
}

#[test]
fn a_point_is_the_direct_run_exactly() {
    let s = peer();
    let id = s.parameter("rr").unwrap();
    let axes = [axis("rr=0.5:0.9:5")];
    let points = sweep::sweep(&Simulation::new(&s), &s, &axes).unwrap();
    assert_eq!(points.len(), 5);
    for p in &points {
        let direct = Simulation::new(&s).set(id, p.values[0]).run().unwrap();
        let c = direct.compare("early_intervention").unwrap();
        let row = &p.rows[0];
        assert_eq!(row.intervention, "early_intervention");
        assert_eq!(row.npv, c.npv());
        assert_eq!(row.npv.mean.to_bits(), c.npv().mean.to_bits());
        assert_eq!(row.savings, c.savings());
        assert_eq!(row.cost, c.intervention_cost());
        assert_eq!(row.bcr, c.bcr());
        assert_eq!(row.roi, c.roi());
        assert_eq!((row.payback_discounted, row.payback_undiscounted), c.payback_year());
    }
    // Different values give different results: the parameter is really held.
    assert_ne!(points[0].rows[0].npv.mean, points[4].rows[0].npv.mean);
}

#[test]
fn no_axes_give_the_simulation_as_it_is() {
    let s = peer();
    let points = sweep::sweep(&Simulation::new(&s), &s, &[]).unwrap();
    assert_eq!(points.len(), 1);
    assert!(points[0].values.is_empty());
    let direct = Simulation::new(&s).run().unwrap();
    assert_eq!(
        points[0].rows[0].npv,
        direct.compare("early_intervention").unwrap().npv()
    );
}

fn csv_on_threads(threads: usize, sim: &Simulation<'_>, s: &Scenario, axes: &[Axis]) -> String {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| sweep::to_csv(axes, &sweep::sweep(sim, s, axes).unwrap()))
}

#[test]
fn the_csv_is_bit_identical_on_any_number_of_threads() {
    let s = Scenario::default_scenario().unwrap();
    let axes = [axis("hr_placement=0.6:1.0:3"), axis("tsi_uptake=0.5,0.9")];
    let sim = Simulation::new(&s).draws(20).seed(11);
    let one = csv_on_threads(1, &sim, &s, &axes);
    let two = csv_on_threads(2, &sim, &s, &axes);
    assert_eq!(one, two);
    assert_eq!(one, csv_on_threads(5, &sim, &s, &axes));
}

#[test]
fn with_draws_the_csv_is_reproducible() {
    let s = peer();
    let axes = [axis("rr=0.6,0.8")];
    let run = |seed| {
        let sim = Simulation::new(&s).draws(50).seed(seed);
        sweep::to_csv(&axes, &sweep::sweep(&sim, &s, &axes).unwrap())
    };
    let first = run(3);
    assert_eq!(first, run(3));
    // The draws are really there: a standard error, and the seed matters only
    // if something is uncertain, which peer_model's `rr` alone is not, so
    // compare against the default scenario too.
    let d = Scenario::default_scenario().unwrap();
    let d_axes = [axis("hr_placement=0.7,0.9")];
    let d_run = |seed| {
        let sim = Simulation::new(&d).draws(50).seed(seed);
        let points = sweep::sweep(&sim, &d, &d_axes).unwrap();
        (sweep::to_csv(&d_axes, &points), points)
    };
    let (a, points) = d_run(3);
    assert_eq!(a, d_run(3).0);
    assert_ne!(a, d_run(4).0);
    assert!(points[0].rows[0].npv.se > 0.0);
    assert!(points[0].rows[0].prob_npv_positive > 0.0);
}

#[test]
fn an_unknown_parameter_is_an_error_naming_the_axis() {
    let s = peer();
    let axes = [axis("nope=0.5,0.6"), axis("rr=0.5")];
    let Err(Error::Scenario(e)) = sweep::sweep(&Simulation::new(&s), &s, &axes) else {
        panic!("expected a scenario error")
    };
    assert_eq!(e.path, "sweep.vary[0]");
    assert!(e.message.contains("`nope`"), "{}", e.message);
    assert!(e.message.contains("rr"), "{}", e.message);

    let axes = [axis("rr=0.5"), axis("rr=0.6")];
    let Err(Error::Scenario(e)) = sweep::sweep(&Simulation::new(&s), &s, &axes) else {
        panic!("expected a scenario error")
    };
    assert_eq!(e.path, "sweep.vary[1]");

    // Axes built by hand are checked too.
    let empty = [Axis {
        parameter: "rr".into(),
        values: vec![],
    }];
    let Err(Error::Scenario(e)) = sweep::sweep(&Simulation::new(&s), &s, &empty) else {
        panic!("expected a scenario error")
    };
    assert_eq!(e.path, "sweep.vary[0]");
}

#[test]
fn a_grid_above_the_limit_is_refused_before_running() {
    let s = Scenario::default_scenario().unwrap();
    let axes = [axis("hr_placement=0.5:1:1000"), axis("tsi_uptake=0.1:1:1000")];
    let Err(Error::Scenario(e)) = sweep::sweep(&Simulation::new(&s), &s, &axes) else {
        panic!("expected a scenario error")
    };
    assert_eq!(e.path, "sweep.vary");
    assert!(e.message.contains("1000 × 1000"), "{}", e.message);
}

#[test]
fn a_failing_point_is_named() {
    // rr = 50 takes at_risk → placed, neet past a probability of 1.
    let s = peer();
    let axes = [axis("rr=0.7,50")];
    let Err(Error::Scenario(e)) = sweep::sweep(&Simulation::new(&s), &s, &axes) else {
        panic!("expected a scenario error")
    };
    assert!(e.message.contains("(at sweep point rr = 50)"), "{e}");
}

#[test]
fn the_csv_parses_back() {
    let s = Scenario::default_scenario().unwrap();
    let axes = [axis("hr_placement=0.6,1.0"), axis("tsi_uptake=0.5:0.9:3")];
    let points = sweep::sweep(&Simulation::new(&s), &s, &axes).unwrap();
    let csv = sweep::to_csv(&axes, &points);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(csv.ends_with('\n'));
    assert_eq!(
        lines[0],
        "hr_placement,tsi_uptake,intervention,npv,npv_se,npv_p5,npv_p95,savings,cost,bcr,roi,\
         prob_npv_positive,payback_discounted,payback_undiscounted"
    );
    let n_interventions = s.interventions().len();
    assert_eq!(lines.len(), 1 + 6 * n_interventions);
    let width = lines[0].split(',').count();
    assert_eq!(width, 14);
    for (i, line) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), width, "{line}");
        let p = &points[i / n_interventions];
        let row = &p.rows[i % n_interventions];
        assert_eq!(cells[0].parse::<f64>().unwrap(), p.values[0]);
        assert_eq!(cells[1].parse::<f64>().unwrap(), p.values[1]);
        assert_eq!(cells[2], row.intervention);
        // Full precision: the numbers read back to the same bits.
        assert_eq!(cells[3].parse::<f64>().unwrap().to_bits(), row.npv.mean.to_bits());
        assert_eq!(cells[7].parse::<f64>().unwrap(), row.savings.mean);
        assert_eq!(cells[8].parse::<f64>().unwrap(), row.cost.mean);
        match row.payback_discounted {
            Some(y) if y.is_finite() => assert_eq!(cells[12].parse::<f64>().unwrap(), y),
            _ => assert_eq!(cells[12], ""),
        }
        for cell in &cells[3..] {
            assert!(cell.is_empty() || cell.parse::<f64>().is_ok(), "{cell}");
        }
    }
}

#[test]
fn text_cells_are_quoted() {
    let axes = [Axis {
        parameter: "a,b".into(),
        values: vec![1.0],
    }];
    let points = [sweep::Point {
        values: vec![1.0],
        rows: vec![sweep::Row {
            intervention: "say \"hi\"".into(),
            npv: lifecost::Estimate::exact(1.0),
            savings: lifecost::Estimate::exact(3.0),
            cost: lifecost::Estimate::exact(2.0),
            bcr: None,
            roi: Some(lifecost::Estimate::exact(0.5)),
            prob_npv_positive: 1.0,
            payback_discounted: Some(f64::NAN),
            payback_undiscounted: None,
        }],
    }];
    let csv = sweep::to_csv(&axes, &points);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("\"a,b\",intervention,"));
    assert_eq!(lines[1], "1,\"say \"\"hi\"\"\",1,0,1,1,3,2,,0.5,1,,");
}

// ── Atomic output ───────────────────────────────────────────────────────────

/// A fresh directory of this test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lifecost-sweep-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn write_atomic_writes_refuses_and_overwrites_on_request() {
    let dir = TempDir::new("write");
    let path = dir.0.join("sweep.csv");
    write_atomic(&path, b"first\n", false).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"first\n");
    assert_eq!(dir.entries(), ["sweep.csv"]);

    let e = write_atomic(&path, b"second\n", false).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&path).unwrap(), b"first\n");
    assert_eq!(dir.entries(), ["sweep.csv"]);

    write_atomic(&path, b"second\n", true).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second\n");
    assert_eq!(dir.entries(), ["sweep.csv"]);

    // Empty contents and a second file beside the first.
    write_atomic(&dir.0.join("empty.csv"), b"", false).unwrap();
    assert_eq!(std::fs::read(dir.0.join("empty.csv")).unwrap(), b"");
    assert_eq!(dir.entries(), ["empty.csv", "sweep.csv"]);
}

#[test]
fn write_atomic_fails_cleanly() {
    let dir = TempDir::new("fail");
    // The directory does not exist: an error, no panic, nothing created.
    let missing = dir.0.join("no").join("such").join("dir").join("out.csv");
    let e = write_atomic(&missing, b"x", false).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    assert!(write_atomic(&missing, b"x", true).is_err());
    assert!(dir.entries().is_empty());

    // The target is a directory: the rename fails, and the temporary file goes.
    let sub = dir.0.join("sub");
    std::fs::create_dir(&sub).unwrap();
    assert!(write_atomic(&sub, b"x", true).is_err());
    assert_eq!(
        write_atomic(&sub, b"x", false).unwrap_err().kind(),
        std::io::ErrorKind::AlreadyExists
    );
    assert_eq!(dir.entries(), ["sub"]);
    assert!(std::fs::read_dir(&sub).unwrap().next().is_none());

    // No file name at all.
    assert!(write_atomic(&dir.0.join(".."), b"x", true).is_err());
    assert_eq!(dir.entries(), ["sub"]);
}

#[test]
fn concurrent_writes_leave_one_whole_file() {
    let dir = TempDir::new("concurrent");
    let path = dir.0.join("out.csv");
    let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 100_000]).collect();
    std::thread::scope(|scope| {
        for c in &contents {
            let path = &path;
            scope.spawn(move || write_atomic(path, c, true).unwrap());
        }
    });
    let written = std::fs::read(&path).unwrap();
    assert!(contents.contains(&written));
    assert_eq!(dir.entries(), ["out.csv"]);
}
