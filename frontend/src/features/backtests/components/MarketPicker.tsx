import { useState } from "react";
import type { MarketSummary } from "../../../client/types";

/** Markets as checkboxes grouped by sector, with a text filter for long registries. */
export function MarketPicker({
  markets,
  selected,
  onChange,
  error,
}: {
  markets: MarketSummary[];
  selected: string[];
  onChange: (roots: string[]) => void;
  error?: string;
}) {
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLowerCase();
  const shown = markets.filter(
    (m) => !needle || m.root.toLowerCase().includes(needle) || m.name.toLowerCase().includes(needle),
  );
  const sectors = [...new Set(shown.map((m) => m.sector))].sort();
  const toggle = (root: string) =>
    onChange(selected.includes(root) ? selected.filter((r) => r !== root) : [...selected, root]);
  return (
    <fieldset className="card" aria-describedby={error ? "markets-error" : undefined}>
      <legend>Markets ({selected.length} chosen)</legend>
      <div className="field">
        <label htmlFor="market-filter">Filter</label>
        <input id="market-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      {error ? (
        <small id="markets-error" className="field-error">
          {error}
        </small>
      ) : null}
      <div className="sectors">
        {sectors.map((sector) => (
          <div key={sector} className="sector">
            <h3>{sector.replace(/_/g, " ")}</h3>
            {shown
              .filter((m) => m.sector === sector)
              .map((m) => (
                <label key={m.root} className="check">
                  <input type="checkbox" checked={selected.includes(m.root)} onChange={() => toggle(m.root)} />
                  <span>
                    <strong>{m.root}</strong> {m.name}
                  </span>
                </label>
              ))}
          </div>
        ))}
      </div>
    </fieldset>
  );
}
