#!/usr/bin/env python3
"""make_tb_golden.py: golden TensorBoard event files for tests/test_tblog.c, made and
checked with tensorboard's own code. Run by hand, never by `make test`.

    pip install tensorboard==2.21.0      # torch is optional (cross-check below)
    python3 tests/ref/make_tb_golden.py                # write goldens, then check the C writer
    python3 tests/ref/make_tb_golden.py --no-check-c   # goldens only
    python3 tests/ref/make_tb_golden.py --out /tmp/g   # somewhere else

Writes into tests/data/tensorboard/:
  cases.json        the events to write: start_time (wall time of the file_version
                    event), then per event step, wall_time and [tag, value] pairs
                    (values that JSON cannot hold are the strings "nan", "inf", "-inf")
  scalars.tfevents  those events as tensorboard writes them: event_pb2 protos serialized
                    by the protobuf library, framed by tensorboard's RecordWriter. The
                    first event is {wall_time: start_time, file_version "brain.Event:2",
                    source_metadata {writer "rlvr"}}, as src/train/tblog.c writes it.

Checks (an AssertionError stops the script):
  1. With torch installed: torch.utils.tensorboard.SummaryWriter.add_scalar (clock
     patched for the file_version event) writes every one-scalar event of cases.json
     with exactly the bytes of the golden's records for them (its first record differs
     only in source_metadata.writer, which is tensorboard's own name).
  2. The golden reads back through tensorboard's EventFileLoader and EventAccumulator.
  3. Unless --no-check-c: runs build/tests/test_tblog with RLVR_TBLOG_OUT=<tmp>, which
     makes the C writer leave (a) <tmp>/cases.tfevents, written from cases.json, and
     (b) a run directory <tmp>/run written by tblog_open (real file name, real clock).
     Both are read with EventFileLoader (every field of every event) and
     EventAccumulator (Scalars per tag) and compared with what was written; (a) must
     also equal scalars.tfevents byte for byte.

Bytes are reproducible: two runs give identical files (no clock, no host name).
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import tensorboard
from tensorboard.backend.event_processing import event_accumulator, event_file_loader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

START_TIME = 1700000000.25
LONG_TAG = "long/" + "x" * 195                      # 200 bytes: a 2-byte length varint
MANY = [["many/v%02d" % i, i * 0.25 - 1.0] for i in range(20)]  # a Summary > 127 bytes

# step, wall_time, [[tag, value], ...]; steps increase so EventAccumulator keeps all
CASES = [
    (-1, 1700000001.5, [["loss", 2.5]]),                       # negative step: 10-byte varint
    (0, 1700000002.125, [["loss", 0.0]]),                      # step 0 is left out, value 0 is not
    (1, 1700000003.1, [["reward/mean", 0.1], ["reward/std", -3.75], ["loss", 1e-40],
                       ["kl", float("nan")], ["grad_norm", float("inf")],
                       ["neg_inf", float("-inf")]]),
    (2, 1700000004.7, [["ümlaut/ß/中", 1.0]]),
    (100, 1700000100.0, [[LONG_TAG, 3.14159]]),
    (2 ** 40, 1700001000.5, MANY),
    (2 ** 62, 1800000000.0, [["loss", -0.0], ["big", 3.0e38], ["small", -1.17549435e-38]]),
    (2 ** 62 + 2 ** 12, 1800000001.0, [["loss", 123456.789]]),
]


def jvalue(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def version_event(wall_time, writer="rlvr"):
    return event_pb2.Event(wall_time=wall_time, file_version="brain.Event:2",
                           source_metadata=event_pb2.SourceMetadata(writer=writer))


def scalar_event(step, wall_time, values):
    s = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in values])
    return event_pb2.Event(wall_time=wall_time, step=step, summary=s)


class Sink:
    def __init__(self):
        self.data = bytearray()

    def write(self, b):
        self.data += b

    def flush(self):
        pass

    def close(self):
        pass


def frame(events):
    sink = Sink()
    rw = RecordWriter(sink)
    for e in events:
        rw.write(e.SerializeToString())
    return bytes(sink.data)


def records(data):
    """The payloads of a TFRecord byte string (framing and CRCs checked by tensorboard's
    reader elsewhere; here only split)."""
    out, off = [], 0
    while off < len(data):
        (n,) = struct.unpack_from("<Q", data, off)
        out.append(data[off + 12: off + 12 + n])
        off += 12 + n + 4
    assert off == len(data), "trailing bytes"
    return out


def same_value(got, want):
    want = f32(want)
    if math.isnan(want):
        return math.isnan(got)
    return got == want and math.copysign(1, got) == math.copysign(1, want)


def check_events(path, cases, start_time, label):
    """Every field of every event as stored (LegacyEventFileLoader: the record reader,
    which verifies both CRCs of every record, then Event.FromString), then as the
    TensorBoard server sees them (EventFileLoader: simple_value migrated to a scalar
    tensor with plugin "scalars")."""
    evs = list(event_file_loader.LegacyEventFileLoader(path).Load())
    assert len(evs) == 1 + len(cases), "%s: %d events, want %d" % (label, len(evs), 1 + len(cases))
    first = evs[0]
    assert first.file_version == "brain.Event:2", label
    if start_time is not None:
        assert first.wall_time == start_time, (label, first.wall_time)
    for ev, (step, wall, values) in zip(evs[1:], cases):
        assert ev.step == step and (wall is None or ev.wall_time == wall), (label, ev.step, step, ev.wall_time, wall)
        got = [(v.tag, v.simple_value) for v in ev.summary.value]
        assert len(got) == len(values), (label, step, got)
        for (gt, gv), (wt, wv) in zip(got, values):
            assert gt == wt and same_value(gv, wv), (label, step, gt, gv, wt, wv)
    migrated = list(event_file_loader.EventFileLoader(path).Load())
    assert len(migrated) == len(evs), label
    for ev, (step, wall, values) in zip(migrated[1:], cases):
        got = [(v.tag, v.metadata.plugin_data.plugin_name, list(v.tensor.float_val)) for v in ev.summary.value]
        assert len(got) == len(values), (label, step, got)
        for (gt, plugin, fv), (wt, wv) in zip(got, values):
            assert gt == wt and plugin == "scalars" and len(fv) == 1 and same_value(fv[0], wv), (label, step, gt, fv, wv)
    print("  %s: %d events, every field equal (LegacyEventFileLoader, and EventFileLoader's scalar tensors)"
          % (label, len(evs)))


def check_accumulator(path, cases, label):
    acc = event_accumulator.EventAccumulator(path)
    acc.Reload()
    want = {}
    for step, wall, values in cases:
        for t, v in values:
            want.setdefault(t, []).append((step, wall, v))
    tags = sorted(acc.Tags()["scalars"])
    assert tags == sorted(want), (label, tags, sorted(want))
    for t in tags:
        got = acc.Scalars(t)
        assert len(got) == len(want[t]), (label, t, got)
        for g, (step, wall, v) in zip(got, want[t]):
            assert g.step == step and (wall is None or g.wall_time == wall) and same_value(g.value, v), (label, t, g, step, v)
    print("  %s: EventAccumulator: %d tags, %d scalars, all equal" % (label, len(tags), sum(len(want[t]) for t in tags)))


def torch_cross_check(golden_records):
    try:
        import torch  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter
        import tensorboard.summary.writer.event_file_writer as efw
    except ImportError:
        print("  torch not installed: SummaryWriter cross-check skipped")
        return
    singles = [(i, c) for i, c in enumerate(CASES) if len(c[2]) == 1]
    with tempfile.TemporaryDirectory() as d:
        real = efw.time.time
        efw.time.time = lambda: START_TIME  # the file_version event's wall time
        try:
            w = SummaryWriter(log_dir=d)
        finally:
            efw.time.time = real
        for _, (step, wall, values) in singles:
            w.add_scalar(values[0][0], values[0][1], global_step=step, walltime=wall)
        w.close()
        (name,) = [f for f in os.listdir(d) if "tfevents" in f]
        recs = records(open(os.path.join(d, name), "rb").read())
    first = event_pb2.Event.FromString(recs[0])
    assert first.wall_time == START_TIME and first.file_version == "brain.Event:2", first
    assert len(recs) == 1 + len(singles), len(recs)
    for r, (i, _) in zip(recs[1:], singles):
        assert r == golden_records[1 + i], "torch record for case %d differs:\n%r\n%r" % (i, r, golden_records[1 + i])
    print("  torch %s SummaryWriter.add_scalar: %d records byte-identical to the golden's" % (torch.__version__, len(singles)))


def check_c(out_dir, golden_bytes):
    exe = os.path.join(ROOT, "build", "tests", "test_tblog")
    if not os.path.exists(exe):
        print("  %s not built (make build/tests/test_tblog): C check skipped" % exe)
        return False
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, RLVR_TBLOG_OUT=d)
        r = subprocess.run([exe], cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, "test_tblog failed:\n" + r.stdout + r.stderr
        path = os.path.join(d, "cases.tfevents")
        got = open(path, "rb").read()
        assert got == golden_bytes, "C cases.tfevents differs from the golden"
        print("  C writer (tblog_open_file): %d bytes, identical to scalars.tfevents" % len(got))
        check_events(path, CASES, START_TIME, "C cases.tfevents")
        check_accumulator(path, CASES, "C cases.tfevents")
        run = os.path.join(d, "run")
        files = [f for f in os.listdir(run) if f.startswith("events.out.tfevents.")]
        assert len(files) == 1, files
        print("  C writer (tblog_open): %s" % files[0])
        demo = json.load(open(os.path.join(d, "demo.json")))  # what the test wrote, wall times included
        demo_cases = [(e["step"], e["wall_time"], e["values"]) for e in demo]
        check_events(os.path.join(run, files[0]), demo_cases, None, "C run/")
        check_accumulator(run, demo_cases, "C run/ (directory)")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "tensorboard"))
    ap.add_argument("--no-check-c", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    print("tensorboard %s, protobuf %s" % (tensorboard.__version__, __import__("google.protobuf").protobuf.__version__))

    cases = {"generator": "tests/ref/make_tb_golden.py tensorboard %s" % tensorboard.__version__,
             "start_time": START_TIME,
             "events": [{"step": s, "wall_time": w, "values": [[t, jvalue(v)] for t, v in vals]}
                        for s, w, vals in CASES]}
    for s, _, _ in CASES:  # steps must survive cJSON's double
        assert float(s) == s
    data = frame([version_event(START_TIME)] + [scalar_event(*c) for c in CASES])
    with open(os.path.join(a.out, "cases.json"), "w", encoding="utf-8") as f:
        # one event per line: readable, and diffs stay small
        dump = lambda x: json.dumps(x, ensure_ascii=False, allow_nan=False)
        f.write('{"generator": %s,\n "start_time": %s,\n "events": [\n' % (dump(cases["generator"]), dump(START_TIME)))
        f.write(",\n".join("  " + dump(e) for e in cases["events"]))
        f.write("\n ]}\n")
    with open(os.path.join(a.out, "scalars.tfevents"), "wb") as f:
        f.write(data)
    print("wrote %s/cases.json and scalars.tfevents (%d bytes, %d records)" % (a.out, len(data), 1 + len(CASES)))

    recs = records(data)
    torch_cross_check(recs)
    golden = os.path.join(a.out, "scalars.tfevents")
    check_events(golden, CASES, START_TIME, "golden")
    check_accumulator(golden, CASES, "golden")
    if not a.no_check_c:
        check_c(a.out, data)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
