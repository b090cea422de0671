using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Servers.Configuration;
using Lightfast.Cloud.Testing;

namespace Lightfast.Cloud.Tests.Configuration;

public sealed class ServerSpecValidatorTests
{
    private const string ValidYaml = """
        servers:
          - name: everything
            description: reference server
            transport: stdio
            command: npx
            args: ["-y", "@modelcontextprotocol/server-everything", "stdio"]
            env:
              LOG_LEVEL: debug
            workingDirectory: /tmp
            callTimeoutSeconds: 15
            tags: [demo]
          - name: remote
            transport: streamable-http
            url: http://127.0.0.1:3001/mcp
            headers:
              Authorization: Bearer secret
            enabled: false
          - name: legacy
            transport: sse
            url: https://example.test/sse
        """;

    private const string ValidJson = """
        {
          "servers": [
            {
              "name": "everything",
              "description": "reference server",
              "transport": "stdio",
              "command": "npx",
              "args": ["-y", "@modelcontextprotocol/server-everything", "stdio"],
              "env": { "LOG_LEVEL": "debug" },
              "workingDirectory": "/tmp",
              "callTimeoutSeconds": 15,
              "tags": ["demo"]
            },
            {
              "name": "remote",
              "transport": "streamable-http",
              "url": "http://127.0.0.1:3001/mcp",
              "headers": { "Authorization": "Bearer secret" },
              "enabled": false
            },
            { "name": "legacy", "transport": "sse", "url": "https://example.test/sse" }
          ]
        }
        """;

    [Fact]
    public void YamlAndJsonFilesShareOneSchemaAndGiveTheSameDefinitions()
    {
        var fromYaml = ServersFileLoader.ParseYaml(ValidYaml);
        var fromJson = ServersFileLoader.ParseJson(ValidJson);

        Assert.Equal(3, fromYaml.Count);
        Assert.Equal(Describe(fromYaml), Describe(fromJson));

        var everything = fromYaml[0];
        Assert.Equal(McpTransportKind.Stdio, everything.Transport);
        Assert.Equal("npx", everything.Command);
        Assert.Equal(["-y", "@modelcontextprotocol/server-everything", "stdio"], everything.Args);
        Assert.Equal("debug", everything.Env["LOG_LEVEL"]);
        Assert.Equal(TimeSpan.FromSeconds(15), everything.CallTimeout);
        Assert.True(everything.Enabled);

        var remote = fromYaml[1];
        Assert.Equal(McpTransportKind.StreamableHttp, remote.Transport);
        Assert.Equal(new Uri("http://127.0.0.1:3001/mcp"), remote.Url);
        Assert.Equal("Bearer secret", remote.Headers["authorization"]);
        Assert.False(remote.Enabled);
        Assert.Equal(ServerDefinition.DefaultCallTimeout, remote.CallTimeout);
        Assert.Equal(McpTransportKind.Sse, fromYaml[2].Transport);
    }

    [Fact]
    public void EveryProblemIsReportedWithItsPathAndNothingIsLoaded()
    {
        const string yaml = """
            servers:
              - name: good
                transport: stdio
                command: node
              - name: Bad_Name
                transport: stdio
              - name: web
                transport: streamable-http
                url: not-a-url
              - name: web
                transport: pigeon
              - name: slow
                transport: sse
                url: ftp://example.test/sse
                callTimeoutSeconds: -1
                command: node
            """;

        var error = Assert.Throws<ConfigurationException>(() => ServersFileLoader.ParseYaml(yaml));

        var problems = error.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains("servers[1].name: 'Bad_Name' must be 1 to 40 lower-case letters, digits or '-', starting with a letter or digit", problems);
        Assert.Contains("servers[1].command: is required for the stdio transport", problems);
        Assert.Contains("servers[2].url: not an absolute http(s) URL", problems);
        Assert.Contains("servers[3].transport: 'pigeon' is not a transport (one of stdio, sse, streamable-http)", problems);
        Assert.Contains("servers[3].name: 'web' is already used by servers[2]", problems);
        Assert.Contains("servers[4].url: not an absolute http(s) URL", problems);
        Assert.Contains("servers[4].callTimeoutSeconds: must be greater than 0 and at most 3600", problems);
        Assert.Contains("servers[4].command: is only for the stdio transport", problems);
        Assert.Equal(8, problems.Count);
        Assert.Equal(ErrorCodes.ConfigurationInvalid, error.Code);
        Assert.Contains("nothing was loaded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResilienceSettingsOverrideTheDefaultsFieldByField()
    {
        const string yaml = """
            servers:
              - name: flaky
                transport: streamable-http
                url: http://127.0.0.1:3001/mcp
                resilience:
                  maxRetries: 4
                  retryDelaySeconds: 0.2
                  circuitBreakSeconds: 2
                  healthIntervalSeconds: 1
              - name: plain
                transport: stdio
                command: node
            """;

        var definitions = ServersFileLoader.ParseYaml(yaml);

        var flaky = definitions[0].Resilience;
        Assert.Equal(4, flaky.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(200), flaky.RetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), flaky.CircuitBreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(1), flaky.HealthInterval);
        Assert.Equal(ServerResilience.Default.CircuitMinimumCalls, flaky.CircuitMinimumCalls);
        Assert.Equal(ServerResilience.Default.MaxRestarts, flaky.MaxRestarts);
        Assert.Equal(ServerResilience.Default, definitions[1].Resilience);
    }

    [Fact]
    public void ResilienceSettingsOutOfRangeAreReportedWithTheirPaths()
    {
        const string yaml = """
            servers:
              - name: bad
                transport: stdio
                command: node
                resilience:
                  maxRetries: 11
                  retryDelaySeconds: -1
                  circuitFailureRatio: 0
                  circuitMinimumCalls: 1
                  circuitBreakSeconds: 0.1
                  healthIntervalSeconds: .nan
                  unhealthyThreshold: 0
                  restarts: 3
            """;

        var unknown = Assert.Throws<ConfigurationException>(() => ServersFileLoader.ParseYaml(yaml));
        Assert.Contains("restarts", unknown.Message, StringComparison.Ordinal);

        var error = Assert.Throws<ConfigurationException>(() => ServersFileLoader.ParseYaml(yaml.Replace("      restarts: 3\n", string.Empty, StringComparison.Ordinal).Replace("\n      restarts: 3", string.Empty, StringComparison.Ordinal).Replace("restarts: 3", "maxRestarts: 3", StringComparison.Ordinal)));
        var problems = error.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains("servers[0].resilience.maxRetries: must be from 0 to 10", problems);
        Assert.Contains("servers[0].resilience.retryDelaySeconds: must be a number of seconds from 0 to 86400", problems);
        Assert.Contains("servers[0].resilience.circuitFailureRatio: must be greater than 0 and at most 1", problems);
        Assert.Contains("servers[0].resilience.circuitMinimumCalls: must be from 2 to 10000", problems);
        Assert.Contains("servers[0].resilience.circuitBreakSeconds: must be from 0.5 to 3600 seconds", problems);
        Assert.Contains("servers[0].resilience.healthIntervalSeconds: must be a number of seconds from 0 to 86400", problems);
        Assert.Contains("servers[0].resilience.unhealthyThreshold: must be from 1 to 100", problems);
        Assert.Equal(7, problems.Count);
    }

    [Fact]
    public void UnknownKeysAreErrorsInBothFormats()
    {
        var yaml = Assert.Throws<ConfigurationException>(() => ServersFileLoader.ParseYaml("servers:\n  - name: a\n    transport: stdio\n    comand: node\n"));
        Assert.Contains("line 4", yaml.Message, StringComparison.Ordinal);

        var json = Assert.Throws<ConfigurationException>(() => ServersFileLoader.ParseJson("""{"servers":[{"name":"a","transport":"stdio","comand":"node"}]}"""));
        Assert.Contains("comand", json.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingServersListIsAnError()
    {
        var error = Assert.Throws<ConfigurationException>(() => ServersFileLoader.ParseYaml("other: 1\n".Replace("other: 1", "servers:", StringComparison.Ordinal)));
        Assert.Contains(error.Errors, e => e.Path == "servers");
    }

    [Fact]
    public void AFileWithAnUnknownExtensionOrNoFileIsRefused()
    {
        Assert.Throws<ConfigurationException>(() => ServersFileLoader.Load(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.yaml")));
        var text = Path.Combine(Path.GetTempPath(), $"servers-{Guid.NewGuid():N}.txt");
        File.WriteAllText(text, "servers: []");
        try
        {
            Assert.Throws<ConfigurationException>(() => ServersFileLoader.Load(text));
        }
        finally
        {
            File.Delete(text);
        }
    }

    [Fact]
    public void TheExampleServersFilesAreValid()
    {
        var root = Repository.Root;
        var yaml = ServersFileLoader.Load(Path.Combine(root, "config", "servers.example.yaml"));
        var json = ServersFileLoader.Load(Path.Combine(root, "config", "servers.example.json"));
        Assert.Contains(yaml, s => s.Name == "everything" && s.Args.Contains("@modelcontextprotocol/server-everything@2026.8.31"));
        Assert.Contains(yaml, s => s.Name == "memory");
        Assert.Equal(Describe(json), Describe(yaml.Take(2).ToList()));
    }

    [Fact]
    public void EnsureValidThrowsAValidationExceptionListingEveryProblem()
    {
        var definition = new ServerDefinition { Name = "", Transport = McpTransportKind.StreamableHttp, Env = new Dictionary<string, string> { ["A"] = "b" } };
        var error = Assert.Throws<ValidationException>(() => ServerSpecValidator.EnsureValid(definition));
        Assert.Equal(ErrorCodes.ValidationFailed, error.Code);
        Assert.Contains(error.Errors, e => e.Path == "name");
        Assert.Contains(error.Errors, e => e.Path == "url");
        Assert.Contains(error.Errors, e => e.Path == "env");
    }

    private static List<string> Describe(IReadOnlyList<ServerDefinition> definitions) =>
        [.. definitions.Select(d => string.Join("|",
            d.Name, d.Description, d.Transport, d.Command, string.Join(",", d.Args), string.Join(",", d.Env.Select(e => $"{e.Key}={e.Value}")),
            d.WorkingDirectory, d.Url, string.Join(",", d.Headers.Select(h => $"{h.Key}={h.Value}")), d.CallTimeout, d.Enabled, string.Join(",", d.Tags)))];
}
