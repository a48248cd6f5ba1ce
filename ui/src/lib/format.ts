// Display helpers: wording only, no domain rules.
import type { ServiceLevel } from "../bindings/ServiceLevel";
import type { StatusCategory } from "../bindings/StatusCategory";

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
