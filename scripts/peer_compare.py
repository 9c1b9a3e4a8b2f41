#!/usr/bin/env python3
"""Reads one run of scripts/peer_compare.sh (its --out folder) and prints the table.

With --rounds K > 1 the folder holds round-1 .. round-K, each a full set of every tool's
runs; each figure in the table is then the median of a tool's K rounds (its costs and notes
are those of its first round), and the ratios of every round are listed below it.

Sources per tool, in the run folder:
  lifecost   lifecost_{cohort,micro}.log   (JSON printed by `peer_model --json`)
  heormodel  result_heormodel_cohort_cohort_psa.json, result_heormodel_micro.json
  pyheor     result_pyheor_cohort[_cohort_psa].json, result_pyheor_micro.json
  base R     base_r_{cohort,micro}.log     (its printed lines; it writes no JSON)
  all        <name>.time (GNU time -v: peak RSS), <name>.rc (exit code), <name>.err
Standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess

ARMS = ("status_quo", "early_intervention")
# peer-model.md, "Expected values per child": used when the file cannot be read
REFERENCE = {"status_quo": 257731.4624585794, "early_intervention": 233688.3881822002}
COLUMNS = (
    # key, header, unit, scale from the stored figure, decimals
    ("cohort_s", "cohort base case", "ms", 1e3, 4),
    ("psa_ms", "cohort PSA /draw", "ms", 1.0, 4),
    ("micro_ns", "microsim /person-cycle", "ns", 1.0, 2),
    ("rss_mb", "peak RSS (microsim)", "MB", 1.0, 0),
)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def read_json(path):
    text = read(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def reference_costs(path):
    text = read(path) if path else None
    ref = dict(REFERENCE)
    if text:
        for arm in ARMS:
            m = re.search(r"^\|\s*%s\s*\|\s*([\d ]+\.\d+)\s*\|" % arm, text, re.M)
            if m:
                ref[arm] = float(m.group(1).replace(" ", ""))
    return ref


def gnu_time(out, name):
    """(peak RSS in MB, wall seconds) of a run, from GNU time -v."""
    text = read(os.path.join(out, name + ".time")) or ""
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    secs = None
    if wall:
        secs = 0.0
        for part in wall.group(1).split(":"):
            secs = secs * 60 + float(part)
    return (int(rss.group(1)) / 1024.0 if rss else None), secs


def status(out, name):
    """None when the run went well, else a short reason."""
    rc = read(os.path.join(out, name + ".rc"))
    if rc is None:
        return "not run"
    if rc.strip() != "0":
        err = (read(os.path.join(out, name + ".err")) or "").strip().splitlines()
        last = err[-1] if err else ""
        return "exit %s%s" % (rc.strip(), (": " + last[:160]) if last else "")
    return None


def new_row(tool):
    return {"tool": tool, "version": "", "cohort_s": None, "psa_ms": None, "micro_ns": None,
            "rss_mb": None, "cohort_cost": {}, "micro_cost": {}, "micro_se": {}, "errors": [],
            "notes": [], "ran": False}


def finish_run(row, out, name, own_rss=None):
    """Exit status, plus the peak RSS of the microsim process."""
    err = status(out, name)
    if err == "not run":
        return
    row["ran"] = True
    if err:
        row["errors"].append("%s: %s" % (name, err))
    if name.endswith("_micro") and err is None:
        rss, _ = gnu_time(out, name)
        if rss is None and own_rss is not None:
            rss = own_rss
            row["notes"].append("peak RSS is the tool's own figure")
        row["rss_mb"] = rss


def lifecost(out):
    row = new_row("lifecost")
    c = read_json(os.path.join(out, "lifecost_cohort.log")) or {}
    m = read_json(os.path.join(out, "lifecost_micro.log")) or {}
    row["version"] = c.get("lifecost_version") or m.get("lifecost_version") or ""
    threads = c.get("threads") or m.get("threads")
    if threads:
        row["notes"].append("%s threads (rayon)" % threads)
    if "cohort" in c:
        row["cohort_s"] = c["cohort"]["seconds"]
        row["cohort_cost"] = c["cohort"]["mean_cost"]
        row["notes"].append("cohort base case: tables, trace and costs of both arms (each arm's discounted cost "
                            "by payer and outcomes), as the peers; mean of %d runs" % c["cohort"]["reps"])
        if "whole_run_seconds" in c["cohort"]:
            row["notes"].append("a whole base-case run, comparisons and break-even searches included: %.3f ms"
                                % (1e3 * c["cohort"]["whole_run_seconds"]))
    if "cohort_psa" in c:
        row["psa_ms"] = c["cohort_psa"]["ms_per_draw"]
        row["notes"].append("cohort PSA: parameters drawn before the clock starts, then tables, trace and costs "
                            "of both arms, as the peers; median of %d runs" % c["cohort_psa"]["runs"])
        whole = c["cohort_psa"].get("whole_run")
        if whole:
            row["notes"].append("a whole PSA run, parameter draws, every draw's figures (comparisons and paybacks "
                                "too) and the summaries included: %.4f ms per draw"
                                % whole["ms_per_draw"])
    if "micro" in m:
        row["micro_ns"] = m["micro"]["ns_per_person_cycle"]
        row["micro_cost"] = m["micro"]["mean_cost"]
        row["micro_se"] = m["micro"].get("se_cost", {})
        if "runs" in m["micro"]:
            row["notes"].append("microsim: median of %d runs, each of the peers' size" % m["micro"]["runs"])
    finish_run(row, out, "lifecost_cohort")
    finish_run(row, out, "lifecost_micro")
    return row


def heormodel(out):
    row = new_row("heormodel")
    c = read_json(os.path.join(out, "result_heormodel_cohort_cohort_psa.json")) or {}
    m = read_json(os.path.join(out, "result_heormodel_micro.json")) or {}
    row["version"] = c.get("heormodel_version") or m.get("heormodel_version") or ""
    if "cohort" in c:
        row["cohort_s"] = c["cohort"]["seconds"]
        row["cohort_cost"] = c["cohort"]["mean_cost"]
        row["notes"].append("cohort base case: one run")
    modes = {k[len("cohort_psa_"):]: v["ms_per_draw"] for k, v in c.items() if k.startswith("cohort_psa_")}
    if modes:
        best = min(modes, key=modes.get)
        row["psa_ms"] = modes[best]
        row["notes"].append("cohort PSA: best of " + ", ".join(
            "%s %.3f ms" % (k, v) for k, v in sorted(modes.items())) + " (shown: %s)" % best)
    if "micro" in m:
        row["micro_ns"] = m["micro"]["ns_per_person_cycle"]
        row["micro_cost"] = m["micro"]["mean_cost"]
    finish_run(row, out, "heormodel_cohort")
    finish_run(row, out, "heormodel_micro", m.get("peak_rss_mb_parent"))
    return row


def pyheor(out):
    row = new_row("pyheor")
    c = (read_json(os.path.join(out, "result_pyheor_cohort_cohort_psa.json"))
         or read_json(os.path.join(out, "result_pyheor_cohort.json")) or {})
    m = read_json(os.path.join(out, "result_pyheor_micro.json")) or {}
    row["version"] = c.get("pyheor_version") or m.get("pyheor_version") or ""
    if "cohort" in c:
        row["cohort_s"] = c["cohort"]["seconds"]
        summary = c["cohort"].get("summary", {})
        names, totals = summary.get("Strategy", {}), summary.get("Total Cost", {})
        row["cohort_cost"] = {names[k]: totals[k] for k in names if k in totals}
        row["notes"].append("cohort base case: one run")
    if "cohort_psa" in c:
        row["psa_ms"] = c["cohort_psa"]["ms_per_draw"]
    if "micro" in m:
        row["micro_ns"] = m["micro"]["ns_per_person_cycle"]
        row["micro_cost"] = m["micro"]["mean_cost"]
    finish_run(row, out, "pyheor_cohort")
    finish_run(row, out, "pyheor_micro", m.get("peak_rss_mb"))
    return row


def costs_in(text):
    return {k: float(v) for k, v in re.findall(r"(status_quo|early_intervention)=([-\d.eE+]+)", text)}


def base_r(out):
    row = new_row("base R")
    c = read(os.path.join(out, "base_r_cohort.log")) or ""
    m = read(os.path.join(out, "base_r_micro.log")) or ""
    v = re.search(r"^R(\d+\.\d+\.\d+)", c or m, re.M)
    row["version"] = v.group(1) if v else ""
    line = re.search(r"^cohort base case: ([\d.eE+-]+) s per run \(mean of (\d+)\); costs: (.*)$", c, re.M)
    if line:
        row["cohort_s"] = float(line.group(1))
        row["cohort_cost"] = costs_in(line.group(3))
        row["notes"].append("cohort base case: mean of %s runs" % line.group(2))
    line = re.search(r"^cohort PSA (\d+) draws: ([\d.]+) s", c, re.M)
    if line:
        row["psa_ms"] = 1e3 * float(line.group(2)) / int(line.group(1))
    line = re.search(r"^microsim (\d+) indiv x (\d+) cycles x 2 strategies: [\d.]+ s, ([\d.]+) "
                     r"ns/person-cycle; costs (.*)$", m, re.M)
    if line:
        row["micro_ns"] = float(line.group(3))
        row["micro_cost"] = costs_in(line.group(4))
    finish_run(row, out, "base_r_cohort")
    finish_run(row, out, "base_r_micro")
    return row


def machine():
    model = "?"
    text = read("/proc/cpuinfo") or ""
    m = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    if m:
        model = m.group(1).strip()
    try:
        cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        cores = str(os.cpu_count())
    mem = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo") or "", re.M)
    load = (read("/proc/loadavg") or "").split()[:3]
    return {"nproc": cores, "cpu": model, "memory_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
            "kernel": platform.release(), "load_avg": " ".join(load)}


def median_row(rows):
    """One tool's row over rounds: each figure the median of the rounds that have it (the
    lower middle of an even number), the rest from the first round that ran."""
    ran = [r for r in rows if r["ran"]]
    if not ran:
        return rows[0]
    row = dict(ran[0])
    for key, *_ in COLUMNS:
        values = sorted(r[key] for r in ran if r[key] is not None)
        row[key] = values[(len(values) - 1) // 2] if values else None
    row["errors"] = [e for r in ran for e in r["errors"]]
    return row


def fmt(value, col):
    key, _, unit, scale, dec = col
    if value is None:
        return "-"
    return "%.*f %s" % (dec, value * scale, unit)


def ratio(peer, ours):
    if peer is None or ours is None or ours <= 0:
        return None
    return peer / ours


def fmt_ratio(r):
    if r is None:
        return ""
    return "%.0fx" % r if r >= 100 else ("%.1fx" % r if r >= 10 else "%.2fx" % r)


def table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--setup-seconds", default="0")
    ap.add_argument("--notes")
    ap.add_argument("--reference")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    out = a.out
    ref = reference_costs(a.reference)
    dirs = [out] if a.rounds <= 1 else [os.path.join(out, "round-%d" % r) for r in range(1, a.rounds + 1)]
    rounds = [[lifecost(d), heormodel(d), pyheor(d), base_r(d)] for d in dirs]
    ours, *others = [median_row(rows) for rows in zip(*rounds)]
    peers = [p for p in others if p["ran"]]
    mach = machine()

    print("== Peer comparison: five-state reference model (peer-model.md) ==")
    print("date:    %s" % datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"))
    print("machine: %s cores (nproc), %s, %s GiB, Linux %s; load average at the end %s"
          % (mach["nproc"], mach["cpu"], mach["memory_gib"], mach["kernel"], mach["load_avg"]))
    print("set-up:  %s s (venv, R, GNU time; only a check when already there)" % a.setup_seconds)
    print("sizes:   cohort PSA 1000 draws; microsim 100000 children x 80 cycles x 2 arms")
    print()

    header = ["tool"] + [c[1] for c in COLUMNS]
    body = []
    for row in [ours] + peers:
        cells = ["%s %s" % (row["tool"], row["version"])]
        for col in COLUMNS:
            cell = fmt(row[col[0]], col)
            if row is not ours:
                r = ratio(row[col[0]], ours[col[0]])
                cell += " (%s)" % fmt_ratio(r) if r is not None else ""
            cells.append(cell)
        body.append(cells)
    # the fastest (smallest) peer per column, and lifecost's ratio against it
    best_cells, vs_cells = ["fastest peer"], ["fastest peer / lifecost"]
    for col in COLUMNS:
        have = [p for p in peers if p[col[0]] is not None]
        if not have:
            best_cells.append("-")
            vs_cells.append("-")
            continue
        best = min(have, key=lambda p: p[col[0]])
        best_cells.append("%s %s" % (best["tool"], fmt(best[col[0]], col)))
        r = ratio(best[col[0]], ours[col[0]])
        vs_cells.append(fmt_ratio(r) if r is not None else "-")
    body += [best_cells, vs_cells]
    print(table(body, header))
    print("(x): peer / lifecost, so above 1 means lifecost is faster or smaller; the last row: the")
    print("fastest peer of each column against lifecost. Peak RSS: GNU time -v on the microsim process.")
    if len(rounds) > 1:
        print("Each figure is the median of %d rounds, each round every tool's runs one after another." % len(rounds))
        print("Fastest peer / lifecost in each round:")
        for col in COLUMNS:
            by_round = []
            for ours_r, *others_r in rounds:
                have = [p for p in others_r if p["ran"] and p[col[0]] is not None]
                r = ratio(min(p[col[0]] for p in have), ours_r[col[0]]) if have else None
                by_round.append(fmt_ratio(r) or "-")
            print("  %-24s %s" % (col[1], ", ".join(by_round)))
    print()

    print("Agreement: mean discounted cost per child against the exact values of peer-model.md")
    print("(status_quo %.2f, early_intervention %.2f); relative difference (tool - exact) / exact"
          % (ref["status_quo"], ref["early_intervention"]))
    agree = []
    for row in [ours] + peers:
        for kind in ("cohort", "micro"):
            costs = row[kind + "_cost"]
            if not costs:
                continue
            cells = ["%s %s" % (row["tool"], "cohort base case" if kind == "cohort" else "microsim 1e5")]
            for arm in ARMS:
                v = costs.get(arm)
                if v is None:
                    cells.append("-")
                    continue
                cell = "%.2f (%+.2e)" % (v, (v - ref[arm]) / ref[arm])
                # every correct microsim of this model with 1e5 children has the same Monte
                # Carlo SE in expectation, so lifecost's own SE stands in for the peers'
                se = ours["micro_se"].get(arm) if kind == "micro" else None
                if se:
                    cell += " %+.1f SE" % ((v - ref[arm]) / se)
                cells.append(cell)
            agree.append(cells)
    print(table(agree, ["tool, part", "status_quo", "early_intervention"]))
    print("(a cohort engine should agree to ~1e-9 relative; a microsim of 1e5 children within a few")
    print("Monte Carlo SE; SE: lifecost's MCSE of the arm's mean cost at 1e5 children, which every")
    print("correct microsim of this model and size shares in expectation)")
    print()

    notes = []
    if a.notes:
        notes += [n for n in (read(a.notes) or "").splitlines() if n.strip()]
    for row in [ours] + peers:
        for n in row["notes"]:
            notes.append("%s: %s" % (row["tool"], n))
        for e in row["errors"]:
            notes.append("%s FAILED %s" % (row["tool"], e))
    skipped = {"lifecost", "heormodel", "pyheor", "base R"} - {p["tool"] for p in peers + [ours] if p["ran"]}
    for s in sorted(skipped):
        notes.append("%s: not run" % s)
    if notes:
        print("Notes:")
        for n in notes:
            print("  - " + n)

    summary = {"machine": mach, "reference": ref, "setup_seconds": a.setup_seconds,
               "tools": [{k: v for k, v in r.items() if k != "ran"} for r in [ours] + peers]}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
