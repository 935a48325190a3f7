export { renderMetrics } from './metric-set';
export { CONTENT_TYPE, Exposition, Metric } from './exposition';
export type { MetricType } from './exposition';
export type { MetricsFamily, MetricsService, MetricsSnapshot } from './metric-set';
export { TEXTFILE_NAME, TextfileExporter } from './textfile-exporter';
export { HttpExporter, parseListenAddress } from './http-exporter';
