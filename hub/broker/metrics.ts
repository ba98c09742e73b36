// Broker metrics. Registered in the hub's registry when given; otherwise kept private so that
// several brokers in one process (tests, the benchmark) do not collide on metric names.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface BrokerMetrics {
  connections: Gauge;
  refused: Counter<'reason'>;
  aclDenied: Counter<'action'>;
  protocolErrors: Counter;
}

export function brokerMetrics(registry?: Registry): BrokerMetrics {
  const registers = registry ? [registry] : [];
  return {
    connections: new Gauge({ name: 'weft_broker_connections', help: 'MQTT clients connected to the embedded broker', registers }),
    refused: new Counter({ name: 'weft_broker_refused_total', help: 'MQTT connections refused', labelNames: ['reason'], registers }),
    aclDenied: new Counter({
      name: 'weft_broker_acl_denied_total',
      help: 'Publishes and subscriptions denied by the site ACL',
      labelNames: ['action'],
      registers,
    }),
    protocolErrors: new Counter({
      name: 'weft_broker_protocol_errors_total',
      help: 'Connections closed for malformed MQTT before CONNECT completed',
      registers,
    }),
  };
}
