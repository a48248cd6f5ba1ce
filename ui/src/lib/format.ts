// Display helpers: wording only, no domain rules.
import { BackendError } from "./backend";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { FieldDef } from "../bindings/FieldDef";
import type { ServiceLevel } from "../bindings/ServiceLevel";
import type { SlaClock } from "../bindings/SlaClock";
import type { StatusCategory } from "../bindings/StatusCategory";

/** The message of any error the backend (or the page) raised. */
export function describeError(e: unknown): string {
  return e instanceof BackendError ? e.message : String((e as Error)?.message ?? e);
}

/** What a form's inputs hold, as the engine checks them: blanks left out, numbers as numbers. */
export function formValues(fields: FieldDef[], values: Record<string, string | number | null>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = values[f.id];
    const v = raw == null ? "" : String(raw).trim();
    if (v) out[f.id] = f.type === "number" ? Number(v) : v;
  }
  return out;
}

/** An engine error that names one of the fields on screen ("field: rule"), to show beside it. */
export function fieldErrorOf(e: unknown, onScreen: string[]): { field: string; message: string } | null {
  if (!(e instanceof BackendError) || e.code !== "invalid_field") return null;
  const at = e.message.indexOf(": ");
  const field = at > 0 ? e.message.slice(0, at) : "";
  return onScreen.includes(field) ? { field, message: e.message.slice(at + 2) } : null;
}

/** A service-level clock in words, as the engine recorded it (paused, breached, at risk). */
export function slaText(clock: SlaClock): string {
  if (clock.paused_since) return "paused";
  const due = clock.due_at ? when(clock.due_at) : "—";
  if (clock.breach_noted) return `breached (was due ${due})`;
  if (clock.at_risk_noted) return `at risk, due ${due}`;
  return `on time, due ${due}`;
}

export function describeServiceLevel(sl: ServiceLevel): string {
  const unit = sl.duration === 1 ? sl.unit.replace(/s$/, "") : sl.unit;
  const basis = sl.time === "open_office" ? "open-office time" : "calendar time";
  return `${sl.duration} ${unit}, ${basis}`;
}

export function categoryLabel(c: StatusCategory): string {
  return { open: "Open", in_progress: "In progress", waiting: "Waiting", closed: "Closed" }[c];
}

export function humanise(id: string): string {
  const s = id.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

type RuleEvent = { rule?: string; label?: string; effects?: { action: string; detail: string }[]; error?: string };

/** A history line's words: what a business rule did (or why it was skipped), else the kind. */
export function historyText(kind: string, after: unknown): string {
  const r = (after ?? {}) as RuleEvent;
  const name = r.label || r.rule || "";
  if (kind === "rule_applied") {
    const did = (r.effects ?? []).map((e) => `${humanise(e.action)}: ${e.detail}`).join("; ");
    return `Rule “${name}” applied — ${did}`;
  }
  if (kind === "rule_failed") return `Rule “${name}” skipped — ${r.error ?? "it failed"}`;
  return humanise(kind);
}

export function when(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A chart axis drawn in the theme's colours (uPlot draws on a canvas, outside CSS). */
export function axis(): { stroke: string; grid: { stroke: string }; ticks: { stroke: string } } {
  const css = getComputedStyle(document.documentElement);
  const line = css.getPropertyValue("--line").trim() || "#d9dfe6";
  return { stroke: css.getPropertyValue("--muted").trim() || "#5b6877", grid: { stroke: line }, ticks: { stroke: line } };
}

/** How long until `iso` from `now` (ms), in words: "in 2 h 5 min", "5 min ago". */
export function dueIn(iso: string, now: number): string {
  const minutes = Math.round((Date.parse(iso) - now) / 60_000);
  const span = (m: number) => {
    const d = Math.floor(m / 1440);
    const h = Math.floor((m % 1440) / 60);
    const min = m % 60;
    return [d ? `${d} d` : "", h ? `${h} h` : "", !d && min ? `${min} min` : ""].filter(Boolean).join(" ") || "0 min";
  };
  return minutes >= 0 ? `in ${span(minutes)}` : `${span(-minutes)} ago`;
}

/** The toolbar's words for sync: its state, what waits, and the conflicts. */
export function syncSummary(s: SyncStatus): { state: string; title: string; waiting: string; conflicts: string } {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return {
    state: s.online ? "Hub online" : "Hub offline",
    title: s.last_sync ? `Last sync ${when(s.last_sync)}` : "Not synced yet",
    waiting: `${plural(s.waiting, "change", "changes")} waiting`,
    conflicts: plural(s.conflicts, "conflict", "conflicts"),
  };
}

/** A conflict's kind in words (the kinds are the engine's: refused, superseded, overrode). */
export function conflictKind(kind: string): string {
  const words: Record<string, string> = {
    refused: "Refused",
    superseded: "Superseded by an earlier change",
    overrode: "Applied over a change not yet seen",
  };
  return words[kind] ?? humanise(kind);
}

/** Any engine error split into the field it names (or "") and its rule, for a form. */
export function splitError(e: unknown): { field: string; message: string } {
  if (e instanceof BackendError && e.code === "invalid_field") {
    const at = e.message.indexOf(": ");
    if (at > 0) return { field: e.message.slice(0, at), message: e.message.slice(at + 2) };
  }
  return { field: "", message: describeError(e) };
}

/** Whether an error's field is `key` or a part of it ("week.mon[0]" is part of "week.mon"). */
export function isUnder(field: string, key: string): boolean {
  return field === key || field.startsWith(`${key}[`) || field.startsWith(`${key}.`);
}

/**
 * A number input's value as the whole number a command carries, or the error a refused
 * field shows ("capacity.total: must be a whole number"): an empty or non-numeric input
 * would otherwise reach the engine as null and be refused without naming the field.
 */
export function wholeNumber(value: unknown, field: string): number {
  const n = typeof value === "number" ? value : Number(String(value ?? "").trim() || NaN);
  if (!Number.isInteger(n) || n < 0) throw new BackendError("invalid_field", `${field}: must be a whole number, 0 or more`);
  return n;
}
