/**
 * The broker's metrics as rabbitmq_prometheus (RabbitMQ 3.10) names them, read from the running
 * server at scrape time. Only what the broker has is reported, under RabbitMQ's metric names,
 * types and labels: alarms, connection/channel/queue/consumer counts and churn, process memory,
 * descriptors and disk, queue depths, node identity, and the `rabbitmq_global_*` message counters
 * (protocol `amqp091`; queue type `rabbit_classic_queue`, the only kind there is).
 *
 * Aggregated (RabbitMQ's default `/metrics`), queue metrics are one sum each without labels;
 * per object (`/metrics/per-object`) they carry `vhost` and `queue` labels, and the alarm
 * families are left out there as RabbitMQ does.
 *
 * @example
 * ```ts
 * const text = renderMetrics(server, { perObject: false, alarms: true });
 * ```
 */
import type { Connection } from "../server/connection.ts";
import type { ControlService } from "../control/service.ts";
import type { MessageStats } from "../broker/stats.ts";
import { RABBITMQ_COMPAT_VERSION } from "../admin/definitions.ts";
import { renderExposition } from "./exposition.ts";
import type { MetricFamily, MetricType, Sample } from "./exposition.ts";
import type { NodeTotals } from "./totals.ts";

/** What a scrape reads: the running server (BrokerServer has all of it). */
export interface MetricsSource {
  readonly connections: Iterable<Connection>;
  readonly service: ControlService;
  readonly totals: NodeTotals;
  readonly startedAt: number;
  readonly alarms: {
    readonly alarms: readonly string[];
    memoryLimit(): number | undefined;
    diskLimit(): number | undefined;
  };
  readonly options: { readonly product: string; readonly version: string; clusterName: string };
}

export interface RenderOptions {
  /** Queue metrics per queue (`vhost`, `queue` labels) rather than summed. */
  perObject: boolean;
  /**
   * The alarm families: served on /metrics, not on /metrics/per-object (RabbitMQ's alarm
   * collector is in its default registry only).
   */
  alarms: boolean;
}

const PROTOCOL = { protocol: "amqp091" };
const CLASSIC = { protocol: "amqp091", queue_type: "rabbit_classic_queue" };

/** The metrics text for one scrape. */
export function renderMetrics(source: MetricsSource, options: RenderOptions): string {
  return renderExposition(collectMetrics(source, options));
}

/** The metric families for one scrape, in rabbitmq_prometheus' order. */
export function collectMetrics(source: MetricsSource, options: RenderOptions): MetricFamily[] {
  const families: MetricFamily[] = [];
  const add = (name: string, type: MetricType, help: string, samples: Sample[]) =>
    families.push({ name, type, help, samples });
  const one = (value: number | undefined): Sample[] => value === undefined ? [] : [{ value }];

  const { service, totals, alarms } = source;
  const live = liveCounts(source.connections);
  const objects = service.objectTotals();
  const node = service.nodeStatus();
  const active = alarms.alarms;

  if (options.alarms) {
    add(
      "rabbitmq_alarms_free_disk_space_watermark",
      "untyped",
      "is 1 if free disk space watermark alarm is in effect",
      one(active.includes("disk") ? 1 : 0),
    );
    add(
      "rabbitmq_alarms_memory_used_watermark",
      "untyped",
      "is 1 if VM memory watermark alarm is in effect",
      one(active.includes("memory") ? 1 : 0),
    );
  }
  add(
    "rabbitmq_connections_opened_total",
    "counter",
    "Total number of connections opened",
    one(totals.connectionsClosed + live.connections),
  );
  add(
    "rabbitmq_connections_closed_total",
    "counter",
    "Total number of connections closed or terminated",
    one(totals.connectionsClosed),
  );
  add(
    "rabbitmq_channels_opened_total",
    "counter",
    "Total number of channels opened",
    one(totals.channelsClosed + live.channels),
  );
  add(
    "rabbitmq_channels_closed_total",
    "counter",
    "Total number of channels closed",
    one(totals.channelsClosed),
  );
  add("rabbitmq_process_open_fds", "gauge", "Open file descriptors", one(num(node.fd_used)));
  add(
    "rabbitmq_process_open_tcp_sockets",
    "gauge",
    "Open TCP sockets",
    one(num(node.sockets_used)),
  );
  add(
    "rabbitmq_process_resident_memory_bytes",
    "gauge",
    "Memory used in bytes",
    one(num(node.mem_used)),
  );
  add(
    "rabbitmq_disk_space_available_bytes",
    "gauge",
    "Disk space available in bytes",
    one(num(node.disk_free)),
  );
  add("rabbitmq_process_max_fds", "gauge", "Open file descriptors limit", one(num(node.fd_total)));
  add(
    "rabbitmq_resident_memory_limit_bytes",
    "gauge",
    "Memory high watermark in bytes",
    one(alarms.memoryLimit()),
  );
  add(
    "rabbitmq_disk_space_available_limit_bytes",
    "gauge",
    "Free disk space low watermark in bytes",
    one(alarms.diskLimit()),
  );
  add(
    "rabbitmq_erlang_uptime_seconds",
    "gauge",
    "Node uptime",
    one((Date.now() - source.startedAt) / 1000),
  );

  addQueueMetrics(add, service, options.perObject);

  add("rabbitmq_connections", "gauge", "Connections currently open", one(num(objects.connections)));
  add("rabbitmq_channels", "gauge", "Channels currently open", one(num(objects.channels)));
  add("rabbitmq_consumers", "gauge", "Consumers currently connected", one(num(objects.consumers)));
  add("rabbitmq_queues", "gauge", "Queues available", one(num(objects.queues)));
  add("rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info", [{
    labels: {
      rabbitmq_version: RABBITMQ_COMPAT_VERSION,
      product_name: source.options.product,
      product_version: source.options.version,
      deno_version: Deno.version.deno,
    },
    value: 1,
  }]);
  add("rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info", [{
    labels: { rabbitmq_node: service.nodeName, rabbitmq_cluster: source.options.clusterName },
    value: 1,
  }]);

  addGlobalCounters(add, totals.messages(live.stats), num(objects.consumers) ?? 0);
  return families;
}

type Add = (name: string, type: MetricType, help: string, samples: Sample[]) => void;

/** Depths and consumers per queue (labelled), or summed over every queue. */
function addQueueMetrics(add: Add, service: ControlService, perObject: boolean): void {
  const rows = service.queueDetails();
  const metric = (field: string, name: string, help: string) => {
    const samples: Sample[] = [];
    let sum = 0;
    for (const q of rows) {
      const value = num(q[field]);
      if (value === undefined) continue;
      sum += value;
      if (perObject) {
        samples.push({ labels: { vhost: String(q.vhost), queue: String(q.name) }, value });
      }
    }
    add(name, "gauge", help, perObject ? samples : [{ value: sum }]);
  };
  metric(
    "messages_ready",
    "rabbitmq_queue_messages_ready",
    "Messages ready to be delivered to consumers",
  );
  metric(
    "messages_unacknowledged",
    "rabbitmq_queue_messages_unacked",
    "Messages delivered to consumers but not yet acknowledged",
  );
  metric(
    "messages",
    "rabbitmq_queue_messages",
    "Sum of ready and unacknowledged messages - total queue depth",
  );
  metric("consumers", "rabbitmq_queue_consumers", "Consumers on a queue");
  metric(
    "message_bytes_ready",
    "rabbitmq_queue_messages_ready_bytes",
    "Size in bytes of ready messages",
  );
}

/** The node-wide message counters (`rabbitmq_global_*`) and consumer count. */
function addGlobalCounters(add: Add, s: MessageStats, consumers: number): void {
  const counter = (name: string, help: string, labels: Record<string, string>, value: number) =>
    add(`rabbitmq_global_${name}`, "counter", help, [{ labels, value }]);
  add("rabbitmq_global_consumers", "gauge", "Current number of consumers", [{
    labels: PROTOCOL,
    value: consumers,
  }]);
  counter(
    "messages_acknowledged_total",
    "Total number of messages acknowledged by consumers",
    CLASSIC,
    s.ack,
  );
  counter(
    "messages_confirmed_total",
    "Total number of messages confirmed to publishers",
    PROTOCOL,
    s.confirm,
  );
  const delivered = [
    ["consume_auto_ack", "basic.consume with automatic", s.deliverNoAck],
    ["consume_manual_ack", "basic.consume with manual", s.deliver],
    ["get_auto_ack", "basic.get with automatic", s.getNoAck],
    ["get_manual_ack", "basic.get with manual", s.get],
  ] as const;
  for (const [name, how, value] of delivered) {
    counter(
      `messages_delivered_${name}_total`,
      `Total number of messages delivered to consumers using ${how} acknowledgment`,
      CLASSIC,
      value,
    );
  }
  counter(
    "messages_delivered_total",
    "Total number of messages delivered to consumers",
    CLASSIC,
    s.deliver + s.deliverNoAck + s.get + s.getNoAck,
  );
  counter(
    "messages_received_total",
    "Total number of messages received from publishers",
    PROTOCOL,
    s.publish,
  );
  counter(
    "messages_redelivered_total",
    "Total number of messages redelivered to consumers",
    CLASSIC,
    s.redeliver,
  );
  counter(
    "messages_routed_total",
    "Total number of messages routed to queues or streams",
    PROTOCOL,
    s.publish - s.returnUnroutable - s.dropUnroutable,
  );
  counter(
    "messages_unroutable_dropped_total",
    "Total number of messages published as non-mandatory into an exchange and dropped as " +
      "unroutable",
    PROTOCOL,
    s.dropUnroutable,
  );
  counter(
    "messages_unroutable_returned_total",
    "Total number of messages published as mandatory into an exchange and returned to the " +
      "publisher as unroutable",
    PROTOCOL,
    s.returnUnroutable,
  );
}

/**
 * Connections that reached open-ok and have not ended, their channels, and those channels'
 * counters: with {@link NodeTotals} they make the since-start totals.
 */
function liveCounts(connections: Iterable<Connection>): {
  connections: number;
  channels: number;
  stats: MessageStats[];
} {
  let opened = 0;
  const stats: MessageStats[] = [];
  for (const c of connections) {
    if (c.vhost !== undefined) opened++;
    for (const ch of c.channels.values()) stats.push(ch.stats);
  }
  return { connections: opened, channels: stats.length, stats };
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
