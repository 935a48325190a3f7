export { buildRegistry } from './metric-set';
export type { MetricsFamily, MetricsService, MetricsSnapshot } from './metric-set';
export { TEXTFILE_NAME, TextfileExporter } from './textfile-exporter';
export { HttpExporter, parseListenAddress } from './http-exporter';
