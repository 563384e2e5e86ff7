import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { DataTable } from "../../../components/DataTable";
import { QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { formatMoney, formatNumber, formatPrice } from "../../../lib/format";
import { chainQuery } from "../api/getChain";
import { marketQuery } from "../api/getMarket";

export function MarketPage() {
  const { root = "" } = useParams();
  const market = useQuery(marketQuery(root));
  const today = new Date().toISOString().slice(0, 10);
  const chain = useQuery(chainQuery(root, today));
  return (
    <QueryState query={market}>
      {(m) => (
        <>
          <PageHeader title={`${m.root} · ${m.name}`}>
            {m.exchange} · {m.sector} · {m.description}
          </PageHeader>
          <section className="card" aria-labelledby="spec-title">
            <h2 id="spec-title">Specification</h2>
            <dl className="metrics">
              {[
                ["Price unit", m.price_unit],
                ["Quote", m.price_quote],
                ["Tick size", formatPrice(m.tick_size, m)],
                ["Tick value", `${formatNumber(m.tick_value, 4)} ${m.currency}`],
                ["Point value", `${formatNumber(m.point_value, 2)} ${m.currency}`],
                ["Months", m.months],
                ["Settlement", m.settlement],
                ["Initial margin", formatMoney(m.initial_margin, m.currency)],
                ["Maintenance margin", formatMoney(m.maintenance_margin, m.currency)],
                ["Trading hours", `${m.trading_hours.open}–${m.trading_hours.close} ${m.trading_hours.timezone}`],
                ["Last trade", m.last_trade_rule.text],
                ["First notice", m.first_notice_rule?.text ?? "–"],
                ["Default roll", `${m.default_roll.business_days_before} business days before ${m.default_roll.reference.replace("_", " ")}`],
              ].map(([label, value]) => (
                <div className="metric" key={label}>
                  <dt>{label}</dt>
                  <dd style={{ fontSize: "0.95rem" }}>{value}</dd>
                </div>
              ))}
            </dl>
          </section>
          <section className="card" aria-labelledby="chain-title">
            <h2 id="chain-title">Contract chain from today</h2>
            <QueryState query={chain}>
              {(page) => (
                <DataTable
                  caption="contract chain"
                  rows={page.items}
                  rowKey={(c) => c.contract}
                  columns={[
                    { key: "contract", header: "Contract" },
                    { key: "last_trade", header: "Last trade" },
                    { key: "first_notice", header: "First notice", render: (c) => c.first_notice ?? "–" },
                    { key: "roll", header: "Roll date" },
                  ]}
                />
              )}
            </QueryState>
          </section>
        </>
      )}
    </QueryState>
  );
}
