namespace Trellis.ControllerRuntime.Metrics;

/// <summary>The Prometheus text exposition format's media type, which every /metrics of Trellis answers with.</summary>
public static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
}
