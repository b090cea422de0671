using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

using Lightfast.Cloud.Testing;

namespace Lightfast.Cloud.IntegrationTests.Infrastructure;

/// <summary>
/// The real thing: the gateway as its own process (local mode, embedded silo on free ports) loading a servers
/// file with server-everything and server-memory over stdio, and server-everything started separately over
/// streamable HTTP and over SSE — all from npm, all on 127.0.0.1, all stopped at the end.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private readonly List<ChildProcess> _servers = [];
    private string _workDirectory = null!;

    public ChildProcess Gateway { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public Uri StreamableHttpUrl { get; private set; } = null!;

    public Uri SseUrl { get; private set; } = null!;

    /// <summary>The scripted model server behind the gateway's OpenAI and Anthropic providers.</summary>
    public Lightfast.Cloud.Testing.ScriptedModelServer ModelServer { get; private set; } = null!;

    public static CancellationToken Timeout(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public async Task InitializeAsync()
    {
        _workDirectory = Directory.CreateTempSubdirectory("lightfast-it-").FullName;
        var everything = Repository.NpmServerScript("server-everything");
        var memory = Repository.NpmServerScript("server-memory");
        var loopback = Path.Combine(Repository.McpServersDirectory, "loopback.mjs");

        var httpPort = Repository.FreePort();
        var ssePort = Repository.FreePort();
        var http = ChildProcess.Start("node", [loopback, everything, "streamableHttp"], new Dictionary<string, string> { ["PORT"] = $"{httpPort}" });
        _servers.Add(http);
        var sse = ChildProcess.Start("node", [loopback, everything, "sse"], new Dictionary<string, string> { ["PORT"] = $"{ssePort}" });
        _servers.Add(sse);
        StreamableHttpUrl = new Uri($"http://127.0.0.1:{httpPort}/mcp");
        SseUrl = new Uri($"http://127.0.0.1:{ssePort}/sse");

        var serversFile = Path.Combine(_workDirectory, "servers.yaml");
        await File.WriteAllTextAsync(serversFile, $"""
            servers:
              - name: everything
                description: server-everything over stdio
                transport: stdio
                command: node
                args: ["{everything}", "stdio"]
                callTimeoutSeconds: 30
              - name: memory
                transport: stdio
                command: node
                args: ["{memory}"]
                env:
                  MEMORY_FILE_PATH: {Path.Combine(_workDirectory, "memory.json")}
                tags: [memory]
            """);

        ModelServer = await Lightfast.Cloud.Testing.ScriptedModelServer.StartAsync();
        var port = Repository.FreePort();
        Gateway = ChildProcess.Start("dotnet", [Repository.GatewayAssembly, "--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string>
        {
            ["Orleans__Endpoints__SiloPort"] = $"{Repository.FreePort()}",
            ["Orleans__Endpoints__GatewayPort"] = $"{Repository.FreePort()}",
            ["Lightfast__ServersFile"] = serversFile,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Lightfast"] = "Information",
            ["Lightfast__AI__DefaultProvider"] = "openai",
            ["Lightfast__AI__Providers__openai__Type"] = "OpenAI",
            ["Lightfast__AI__Providers__openai__Endpoint"] = new Uri(ModelServer.BaseAddress, "v1/").ToString(),
            ["Lightfast__AI__Providers__openai__ApiKey"] = "test-key-not-secret",
            ["Lightfast__AI__Providers__openai__Model"] = "default-model",
            ["Lightfast__AI__Providers__openai__MaxRetries"] = "1",
            ["Lightfast__AI__Providers__anthropic__Type"] = "Anthropic",
            ["Lightfast__AI__Providers__anthropic__Endpoint"] = ModelServer.BaseAddress.ToString(),
            ["Lightfast__AI__Providers__anthropic__ApiKey"] = "test-key-not-secret",
            ["Lightfast__AI__Providers__anthropic__Model"] = "default-model",
        });
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(90) };

        await http.WaitForPortAsync(httpPort, TimeSpan.FromSeconds(30));
        await sse.WaitForPortAsync(ssePort, TimeSpan.FromSeconds(30));
        await Gateway.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
        await WaitUntilAsync(async () => (await Http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK, "the gateway to be ready");
        foreach (var name in new[] { "everything", "memory" })
        {
            await WaitUntilAsync(async () => await StatusOfAsync(name) == "running", $"server '{name}' from the servers file to run");
        }
    }

    public async Task<string?> StatusOfAsync(string name)
    {
        using var response = await Http.GetAsync(new Uri($"/api/v1/servers/{name}", UriKind.Relative));
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        return (await response.Content.ReadFromJsonAsync<JsonObject>())?["status"]?.GetValue<string>();
    }

    public Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 60) =>
        WaitUntilAsync(Gateway, condition, what, seconds);

    /// <summary>
    /// Polls a condition on a gateway process: "not listening yet" counts as not yet, and the wait ends at once,
    /// with the gateway's output, if the process exits.
    /// </summary>
    public static Task WaitUntilAsync(ChildProcess gateway, Func<Task<bool>> condition, string what, int seconds = 60) =>
        Eventually.WaitAsync(
            async () =>
            {
                bool met;
                try
                {
                    met = await condition();
                }
                catch (HttpRequestException)
                {
                    met = false; // not listening yet
                }

                return met || !gateway.HasExited
                    ? met
                    : throw new InvalidOperationException($"The gateway exited while waiting for {what}:\n{gateway.Output}");
            },
            what,
            TimeSpan.FromSeconds(seconds),
            () => $"Gateway output:\n{gateway.Output}");

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Gateway is not null)
        {
            await StopGracefullyAsync(Gateway);
            await Gateway.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        if (ModelServer is not null)
        {
            await ModelServer.DisposeAsync();
        }

        Directory.Delete(_workDirectory, recursive: true);
    }

    /// <summary>SIGTERM, as a container runtime would, then wait for the host to shut down.</summary>
    public static async Task StopGracefullyAsync(ChildProcess process)
    {
        if (process.HasExited)
        {
            return;
        }

        using var kill = Process.Start("kill", ["-TERM", $"{process.Id}"]);
        await kill.WaitForExitAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
}

[CollectionDefinition(Name)]
public sealed class GatewayTestGroup : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
