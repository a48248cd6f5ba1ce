// Wording helpers: what a form sends, which field an engine error belongs to, and an
// SLA clock in words.
import { describe, expect, it } from "vitest";
import { BackendError } from "./backend";
import { dueIn, fieldErrorOf, formValues, slaText, syncSummary } from "./format";
import type { FieldDef } from "../bindings/FieldDef";
import type { SlaClock } from "../bindings/SlaClock";

const field = (id: string, type: string): FieldDef => ({ id, label: id, type, required: false, choices: [] }) as unknown as FieldDef;

describe("formValues", () => {
  it("leaves blanks out, trims text and sends numbers as numbers", () => {
    const fields = [field("amount", "number"), field("iban", "text"), field("comment", "text")];
    expect(formValues(fields, { amount: "59.5", iban: "  DE89 ", comment: "" })).toEqual({ amount: 59.5, iban: "DE89" });
  });
});

describe("fieldErrorOf", () => {
  it("puts an invalid field's error beside that field when it is on screen", () => {
    const e = new BackendError("invalid_field", "amount: must be at least 0.01");
    expect(fieldErrorOf(e, ["amount"])).toEqual({ field: "amount", message: "must be at least 0.01" });
    expect(fieldErrorOf(e, ["iban"])).toBeNull();
  });

  it("leaves other errors to be shown above the form", () => {
    expect(fieldErrorOf(new BackendError("forbidden", "amount: no"), ["amount"])).toBeNull();
    expect(fieldErrorOf(new Error("amount: boom"), ["amount"])).toBeNull();
  });
});

describe("slaText", () => {
  const clock = (c: Partial<SlaClock>): SlaClock =>
    ({ started_at: "", paused_ms: 0n, paused_since: null, due_at: "2026-12-04T13:30:00Z", at_risk_at: null, at_risk_noted: false, breach_noted: false, ...c }) as SlaClock;
  it("says what the engine recorded", () => {
    expect(slaText(clock({}))).toMatch(/^on time, due /);
    expect(slaText(clock({ at_risk_noted: true }))).toMatch(/^at risk, due /);
    expect(slaText(clock({ at_risk_noted: true, breach_noted: true }))).toMatch(/^breached \(was due /);
    expect(slaText(clock({ paused_since: "2026-12-03T10:00:00Z" }))).toBe("paused");
  });
});

describe("dueIn", () => {
  const now = Date.parse("2026-12-02T10:00:00Z");
  it("counts down, and up once past", () => {
    expect(dueIn("2026-12-02T12:05:00Z", now)).toBe("in 2 h 5 min");
    expect(dueIn("2026-12-04T13:30:00Z", now)).toBe("in 2 d 3 h");
    expect(dueIn("2026-12-02T09:55:00Z", now)).toBe("5 min ago");
    expect(dueIn("2026-12-02T10:00:20Z", now)).toBe("in 0 min");
  });
});

describe("syncSummary", () => {
  const base = { joined: true, online: true, problem: null, waiting: 0, conflicts: 0, last_sync: null, cursor: 0 };
  it("says online or offline, what waits and the conflicts in words", () => {
    expect(syncSummary(base).state).toBe("Hub online");
    expect(syncSummary({ ...base, online: false }).state).toBe("Hub offline");
    expect(syncSummary({ ...base, waiting: 1 }).waiting).toBe("1 change waiting");
    expect(syncSummary({ ...base, waiting: 3 }).waiting).toBe("3 changes waiting");
    expect(syncSummary({ ...base, conflicts: 2 }).conflicts).toBe("2 conflicts");
    expect(syncSummary(base).title).toBe("Not synced yet");
  });
});
