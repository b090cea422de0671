using System.Text.RegularExpressions;
using Lightfast.Cloud.Errors;

namespace Lightfast.Cloud.Servers.Configuration;

/// <summary>
/// Checks server definitions and turns <see cref="ServerSpec"/>s into <see cref="ServerDefinition"/>s. Every
/// problem is reported with its path (<c>servers[2].url: not an absolute http(s) URL</c>); nothing is returned
/// when anything is wrong.
/// </summary>
public static partial class ServerSpecValidator
{
    /// <summary>Longest accepted server name.</summary>
    public const int MaxNameLength = 40;

    /// <summary>Longest accepted call timeout.</summary>
    public static readonly TimeSpan MaxCallTimeout = TimeSpan.FromHours(1);

    /// <summary>Longest duration accepted anywhere in a definition.</summary>
    private static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>
    /// Server names: lower-case letters, digits and '-', starting with a letter or digit. No '_' so that the
    /// first "__" of a qualified tool name always ends the server name.
    /// </summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvNamePattern();

    // RFC 9110 token characters.
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex HeaderNamePattern();

    /// <summary>Converts a spec, adding any problems to <paramref name="errors"/>; null when there were any.</summary>
    public static ServerDefinition? ToDefinition(ServerSpec? spec, string path, List<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        if (spec is null)
        {
            errors.Add(new ValidationError(path, "a server definition is required"));
            return null;
        }

        McpTransportKind transport = default;
        if (string.IsNullOrWhiteSpace(spec.Transport))
        {
            errors.Add(new ValidationError(Join(path, "transport"), $"is required (one of {string.Join(", ", McpTransportNames.All)})"));
        }
        else if (!McpTransportNames.TryParse(spec.Transport, out transport))
        {
            errors.Add(new ValidationError(Join(path, "transport"), $"'{spec.Transport}' is not a transport (one of {string.Join(", ", McpTransportNames.All)})"));
        }

        Uri? url = null;
        if (!string.IsNullOrWhiteSpace(spec.Url) && !TryParseHttpUrl(spec.Url, out url))
        {
            errors.Add(new ValidationError(Join(path, "url"), "not an absolute http(s) URL"));
        }

        var callTimeout = ServerDefinition.DefaultCallTimeout;
        if (spec.CallTimeoutSeconds is { } seconds)
        {
            if (double.IsNaN(seconds) || seconds <= 0 || seconds > MaxCallTimeout.TotalSeconds)
            {
                errors.Add(new ValidationError(Join(path, "callTimeoutSeconds"), $"must be greater than 0 and at most {MaxCallTimeout.TotalSeconds}"));
            }
            else
            {
                callTimeout = TimeSpan.FromSeconds(seconds);
            }
        }

        var resilience = ToResilience(spec.Resilience, Join(path, "resilience"), errors);

        // Then the rules of the definition itself, keeping one problem per path: a field that could not be
        // parsed is not reported again as missing.
        var definition = Build(spec, transport, url, callTimeout) with { Resilience = resilience };
        var ruleErrors = new List<ValidationError>();
        var transportKnown = errors.Skip(before).All(e => e.Path != Join(path, "transport"));
        Validate(definition, path, ruleErrors, checkTransport: transportKnown);
        var reported = errors.Skip(before).Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        errors.AddRange(ruleErrors.Where(e => !reported.Contains(e.Path)));
        return errors.Count > before ? null : definition;
    }

    /// <summary>Checks a definition; throws <see cref="ValidationException"/> listing every problem.</summary>
    public static void EnsureValid(ServerDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var errors = new List<ValidationError>();
        Validate(definition, string.Empty, errors, checkTransport: true);
        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }
    }

    /// <summary>Whether <paramref name="name"/> is a name a server can have (so it may become a grain key).</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength && NamePattern().IsMatch(name);

    /// <summary>Checks the rules of a definition, adding problems to <paramref name="errors"/>.</summary>
    public static void Validate(ServerDefinition definition, string path, List<ValidationError> errors, bool checkTransport = true)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(errors);

        if (string.IsNullOrWhiteSpace(definition.Name))
        {
            errors.Add(new ValidationError(Join(path, "name"), "is required"));
        }
        else if (!IsValidName(definition.Name))
        {
            errors.Add(new ValidationError(Join(path, "name"), $"'{definition.Name}' must be 1 to {MaxNameLength} lower-case letters, digits or '-', starting with a letter or digit"));
        }

        if (definition.CallTimeout <= TimeSpan.Zero || definition.CallTimeout > MaxCallTimeout)
        {
            errors.Add(new ValidationError(Join(path, "callTimeoutSeconds"), $"must be greater than 0 and at most {MaxCallTimeout.TotalSeconds}"));
        }

        ValidateResilience(definition.Resilience, Join(path, "resilience"), errors);

        for (var i = 0; i < definition.Tags.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(definition.Tags[i]))
            {
                errors.Add(new ValidationError(Join(path, $"tags[{i}]"), "must not be empty"));
            }
        }

        if (!checkTransport)
        {
            return;
        }

        if (definition.Transport == McpTransportKind.Stdio)
        {
            if (string.IsNullOrWhiteSpace(definition.Command))
            {
                errors.Add(new ValidationError(Join(path, "command"), "is required for the stdio transport"));
            }

            for (var i = 0; i < definition.Args.Count; i++)
            {
                if (definition.Args[i] is null)
                {
                    errors.Add(new ValidationError(Join(path, $"args[{i}]"), "must not be null"));
                }
            }

            foreach (var name in definition.Env.Keys)
            {
                if (!EnvNamePattern().IsMatch(name))
                {
                    errors.Add(new ValidationError(Join(path, $"env.{name}"), "not a valid environment variable name"));
                }
            }

            if (definition.Url is not null)
            {
                errors.Add(new ValidationError(Join(path, "url"), "is only for the sse and streamable-http transports"));
            }

            if (definition.Headers.Count > 0)
            {
                errors.Add(new ValidationError(Join(path, "headers"), "are only for the sse and streamable-http transports"));
            }
        }
        else
        {
            if (definition.Url is null)
            {
                errors.Add(new ValidationError(Join(path, "url"), $"is required for the {McpTransportNames.ToName(definition.Transport)} transport"));
            }
            else if (!definition.Url.IsAbsoluteUri || (definition.Url.Scheme != Uri.UriSchemeHttp && definition.Url.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add(new ValidationError(Join(path, "url"), "not an absolute http(s) URL"));
            }

            foreach (var (name, value) in definition.Headers)
            {
                if (!HeaderNamePattern().IsMatch(name))
                {
                    errors.Add(new ValidationError(Join(path, $"headers.{name}"), "not a valid header name"));
                }
                else if (value is null || value.AsSpan().ContainsAny('\r', '\n'))
                {
                    errors.Add(new ValidationError(Join(path, $"headers.{name}"), "must be a single-line value"));
                }
            }

            if (!string.IsNullOrEmpty(definition.Command))
            {
                errors.Add(new ValidationError(Join(path, "command"), "is only for the stdio transport"));
            }

            if (definition.Args.Count > 0)
            {
                errors.Add(new ValidationError(Join(path, "args"), "are only for the stdio transport"));
            }

            if (definition.Env.Count > 0)
            {
                errors.Add(new ValidationError(Join(path, "env"), "is only for the stdio transport"));
            }

            if (!string.IsNullOrEmpty(definition.WorkingDirectory))
            {
                errors.Add(new ValidationError(Join(path, "workingDirectory"), "is only for the stdio transport"));
            }
        }
    }

    /// <summary>Converts every spec of a servers file; all or nothing.</summary>
    public static IReadOnlyList<ServerDefinition> ToDefinitions(ServersFileSpec? file, List<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        if (file?.Servers is null)
        {
            errors.Add(new ValidationError("servers", "is required: a list of server definitions"));
            return [];
        }

        var definitions = new List<ServerDefinition>(file.Servers.Count);
        var firstIndexByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < file.Servers.Count; i++)
        {
            var path = $"servers[{i}]";
            var definition = ToDefinition(file.Servers[i], path, errors);
            var name = file.Servers[i]?.Name;
            if (name is not null)
            {
                if (firstIndexByName.TryGetValue(name, out var first))
                {
                    errors.Add(new ValidationError(Join(path, "name"), $"'{name}' is already used by servers[{first}]"));
                }
                else
                {
                    firstIndexByName[name] = i;
                }
            }

            if (definition is not null)
            {
                definitions.Add(definition);
            }
        }

        return errors.Count > before ? [] : definitions;
    }

    /// <summary>The resilience settings of a spec: its overrides on top of the defaults.</summary>
    private static ServerResilience ToResilience(ResilienceSpec? spec, string path, List<ValidationError> errors)
    {
        var defaults = ServerResilience.Default;
        if (spec is null)
        {
            return defaults;
        }

        return new ServerResilience
        {
            MaxRetries = spec.MaxRetries ?? defaults.MaxRetries,
            RetryDelay = Seconds(spec.RetryDelaySeconds, defaults.RetryDelay, Join(path, "retryDelaySeconds"), errors),
            CircuitFailureRatio = spec.CircuitFailureRatio ?? defaults.CircuitFailureRatio,
            CircuitMinimumCalls = spec.CircuitMinimumCalls ?? defaults.CircuitMinimumCalls,
            CircuitSamplingDuration = Seconds(spec.CircuitSamplingSeconds, defaults.CircuitSamplingDuration, Join(path, "circuitSamplingSeconds"), errors),
            CircuitBreakDuration = Seconds(spec.CircuitBreakSeconds, defaults.CircuitBreakDuration, Join(path, "circuitBreakSeconds"), errors),
            MaxRestarts = spec.MaxRestarts ?? defaults.MaxRestarts,
            RestartWindow = Seconds(spec.RestartWindowSeconds, defaults.RestartWindow, Join(path, "restartWindowSeconds"), errors),
            HealthInterval = Seconds(spec.HealthIntervalSeconds, defaults.HealthInterval, Join(path, "healthIntervalSeconds"), errors),
            UnhealthyThreshold = spec.UnhealthyThreshold ?? defaults.UnhealthyThreshold,
        };
    }

    private static TimeSpan Seconds(double? seconds, TimeSpan fallback, string path, List<ValidationError> errors)
    {
        if (seconds is not { } value)
        {
            return fallback;
        }

        if (!double.IsFinite(value) || value < 0 || value > MaxDuration.TotalSeconds)
        {
            errors.Add(new ValidationError(path, $"must be a number of seconds from 0 to {MaxDuration.TotalSeconds}"));
            return fallback;
        }

        return TimeSpan.FromSeconds(value);
    }

    /// <summary>The ranges of the resilience settings (the circuit breaker's lower bounds are Polly's).</summary>
    private static void ValidateResilience(ServerResilience resilience, string path, List<ValidationError> errors)
    {
        if (resilience is null)
        {
            errors.Add(new ValidationError(path, "is required"));
            return;
        }

        Range(resilience.MaxRetries, 0, 10, Join(path, "maxRetries"), errors);
        Range(resilience.RetryDelay, TimeSpan.Zero, TimeSpan.FromMinutes(1), Join(path, "retryDelaySeconds"), errors);
        if (!(resilience.CircuitFailureRatio > 0 && resilience.CircuitFailureRatio <= 1))
        {
            errors.Add(new ValidationError(Join(path, "circuitFailureRatio"), "must be greater than 0 and at most 1"));
        }

        Range(resilience.CircuitMinimumCalls, 2, 10_000, Join(path, "circuitMinimumCalls"), errors);
        Range(resilience.CircuitSamplingDuration, TimeSpan.FromSeconds(0.5), TimeSpan.FromHours(1), Join(path, "circuitSamplingSeconds"), errors);
        Range(resilience.CircuitBreakDuration, TimeSpan.FromSeconds(0.5), TimeSpan.FromHours(1), Join(path, "circuitBreakSeconds"), errors);
        Range(resilience.MaxRestarts, 0, 100, Join(path, "maxRestarts"), errors);
        Range(resilience.RestartWindow, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), Join(path, "restartWindowSeconds"), errors);
        Range(resilience.HealthInterval, TimeSpan.FromSeconds(0.5), TimeSpan.FromHours(1), Join(path, "healthIntervalSeconds"), errors);
        Range(resilience.UnhealthyThreshold, 1, 100, Join(path, "unhealthyThreshold"), errors);
    }

    private static void Range(int value, int min, int max, string path, List<ValidationError> errors)
    {
        if (value < min || value > max)
        {
            errors.Add(new ValidationError(path, $"must be from {min} to {max}"));
        }
    }

    private static void Range(TimeSpan value, TimeSpan min, TimeSpan max, string path, List<ValidationError> errors)
    {
        if (value < min || value > max)
        {
            errors.Add(new ValidationError(path, $"must be from {min.TotalSeconds} to {max.TotalSeconds} seconds"));
        }
    }

    private static ServerDefinition Build(ServerSpec spec, McpTransportKind transport, Uri? url, TimeSpan callTimeout) => new()
    {
        Name = spec.Name?.Trim() ?? string.Empty,
        Description = spec.Description,
        Transport = transport,
        Command = spec.Command,
        Args = spec.Args?.ToArray() ?? [],
        Env = spec.Env is null ? new Dictionary<string, string>() : new Dictionary<string, string>(spec.Env, StringComparer.Ordinal),
        WorkingDirectory = spec.WorkingDirectory,
        Url = url,
        Headers = spec.Headers is null ? new Dictionary<string, string>() : new Dictionary<string, string>(spec.Headers, StringComparer.OrdinalIgnoreCase),
        CallTimeout = callTimeout,
        Enabled = spec.Enabled ?? true,
        Tags = spec.Tags?.ToArray() ?? [],
    };

    private static bool TryParseHttpUrl(string value, out Uri? url) =>
        Uri.TryCreate(value, UriKind.Absolute, out url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    private static string Join(string path, string field) => string.IsNullOrEmpty(path) ? field : $"{path}.{field}";
}
