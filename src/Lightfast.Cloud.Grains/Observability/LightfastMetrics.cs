using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Lightfast.Cloud.Servers;

namespace Lightfast.Cloud.Observability;

/// <summary>
/// The instruments of the meter <c>Lightfast.Cloud</c> (<see cref="MeterName"/>), one instance per silo. Server
/// grains report what happens to calls and connections; the circuit and health gauges read the latest state
/// each server grain on this silo reported, and forget it when the grain deactivates.
/// </summary>
public sealed class LightfastMetrics
{
    public const string MeterName = "Lightfast.Cloud";

    private readonly ConcurrentDictionary<string, ServerGauges> _servers = new(StringComparer.Ordinal);
    private readonly Counter<long> _toolCalls;
    private readonly Histogram<double> _toolCallDuration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _reconnects;

    public LightfastMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _toolCalls = meter.CreateCounter<long>("lightfast.tool.calls", "{call}", "Tool calls by server and outcome.");
        _toolCallDuration = meter.CreateHistogram<double>("lightfast.tool.call.duration", "s", "Duration of tool calls, retries included, by server and outcome.");
        _retries = meter.CreateCounter<long>("lightfast.tool.call.retries", "{retry}", "Retries of tool calls after transient failures, by server.");
        _reconnects = meter.CreateCounter<long>("lightfast.server.reconnects", "{reconnect}", "Connections re-established to a server (process restarts, reconnects), by server and reason.");
        meter.CreateObservableGauge("lightfast.server.circuit.state", ObserveCircuits, "{state}", "Circuit breaker state per server: 0 closed, 1 open, 2 half-open.");
        meter.CreateObservableGauge("lightfast.server.health", ObserveHealth, "{state}", "Health per running server: 0 healthy, 1 unhealthy, 3 degraded.");
    }

    /// <summary>Outcomes of a tool call, as the <c>outcome</c> tag shows them.</summary>
    public static class Outcomes
    {
        public const string Success = "success";
        public const string ToolError = "tool_error";
        public const string InvalidArguments = "invalid_arguments";
        public const string Timeout = "timeout";
        public const string CircuitOpen = "circuit_open";
        public const string Failed = "failed";
        public const string Cancelled = "cancelled";
    }

    public void ToolCall(string server, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "server", server }, { "outcome", outcome } };
        _toolCalls.Add(1, tags);
        _toolCallDuration.Record(duration.TotalSeconds, tags);
    }

    public void Retry(string server) => _retries.Add(1, new KeyValuePair<string, object?>("server", server));

    public void Reconnect(string server, string reason) =>
        _reconnects.Add(1, new KeyValuePair<string, object?>("server", server), new KeyValuePair<string, object?>("reason", reason));

    public void Circuit(string server, CircuitState state) => Gauges(server).Circuit = state;

    public void Health(string server, HealthStatus health) => Gauges(server).Health = health;

    /// <summary>The server's grain left this silo: its gauges are no longer reported from here.</summary>
    public void Forget(string server) => _servers.TryRemove(server, out _);

    private ServerGauges Gauges(string server) => _servers.GetOrAdd(server, static _ => new ServerGauges());

    private IEnumerable<Measurement<int>> ObserveCircuits() =>
        _servers.Select(pair => new Measurement<int>((int)pair.Value.Circuit, new KeyValuePair<string, object?>("server", pair.Key)));

    private IEnumerable<Measurement<int>> ObserveHealth() =>
        _servers.Where(pair => pair.Value.Health is not null)
            .Select(pair => new Measurement<int>((int)pair.Value.Health!.Value, new KeyValuePair<string, object?>("server", pair.Key)));

    private sealed class ServerGauges
    {
        public volatile CircuitState Circuit;

        public HealthStatus? Health { get; set; }
    }
}
