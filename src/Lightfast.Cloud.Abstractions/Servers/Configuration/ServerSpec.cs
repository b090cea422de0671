namespace Lightfast.Cloud.Servers.Configuration;

/// <summary>
/// A server as written by a person: one entry of a servers file (YAML or JSON) or the body of
/// <c>POST /api/v1/servers</c>. Every field is optional here so that <see cref="ServerSpecValidator"/> can
/// report every problem at once, with its path, before anything is stored.
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed class ServerSpec
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary><c>stdio</c>, <c>sse</c> or <c>streamable-http</c>.</summary>
    public string? Transport { get; set; }

    public string? Command { get; set; }

    public List<string>? Args { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    public string? WorkingDirectory { get; set; }

    public string? Url { get; set; }

    public Dictionary<string, string>? Headers { get; set; }

    public double? CallTimeoutSeconds { get; set; }

    public bool? Enabled { get; set; }

    public List<string>? Tags { get; set; }

    /// <summary>Overrides of the resilience defaults (<see cref="ServerResilience"/>); any field may be left out.</summary>
    public ResilienceSpec? Resilience { get; set; }
}

/// <summary>The <c>resilience:</c> section of a server, in seconds and counts; what is left out keeps its default.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed class ResilienceSpec
{
    public int? MaxRetries { get; set; }

    public double? RetryDelaySeconds { get; set; }

    public double? CircuitFailureRatio { get; set; }

    public int? CircuitMinimumCalls { get; set; }

    public double? CircuitSamplingSeconds { get; set; }

    public double? CircuitBreakSeconds { get; set; }

    public int? MaxRestarts { get; set; }

    public double? RestartWindowSeconds { get; set; }

    public double? HealthIntervalSeconds { get; set; }

    public int? UnhealthyThreshold { get; set; }
}

/// <summary>A servers file: <c>servers:</c> followed by a list of <see cref="ServerSpec"/>.</summary>
public sealed class ServersFileSpec
{
    public List<ServerSpec>? Servers { get; set; }
}
