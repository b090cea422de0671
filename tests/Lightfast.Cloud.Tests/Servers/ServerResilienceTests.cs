using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Observability;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Lightfast.Cloud.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lightfast.Cloud.Tests.Servers;

/// <summary>
/// Faults injected into real MCP servers: a stdio process killed mid-call or again and again, an HTTP server
/// stopped and started again (which forgets its sessions), a server that adds tools at runtime, and the health
/// timer noticing all of it without any call.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ServerResilienceTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const string Marker = "LIGHTFAST_TEST_MARKER";

    /// <summary>Small numbers so that faults play out in seconds; health checks only where a test wants them.</summary>
    private static readonly ServerResilience Fast = new()
    {
        MaxRetries = 2,
        RetryDelay = TimeSpan.FromMilliseconds(200),
        CircuitMinimumCalls = 2,
        CircuitFailureRatio = 0.5,
        CircuitSamplingDuration = TimeSpan.FromSeconds(30),
        CircuitBreakDuration = TimeSpan.FromSeconds(1),
        MaxRestarts = 2,
        RestartWindow = TimeSpan.FromMinutes(5),
        HealthInterval = TimeSpan.FromMinutes(10),
        UnhealthyThreshold = 2,
    };

    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..30];

    private async Task<(IMcpServerGrain Server, ServerInfo Info)> RegisterAsync(ServerDefinition definition)
    {
        var registry = fixture.Grains.GetGrain<IServerRegistryGrain>($"tests-{Guid.NewGuid():N}");
        var info = await registry.AddServerAsync(definition, Timeout);
        return (fixture.Grains.GetGrain<IMcpServerGrain>(definition.Name), info);
    }

    private static ServerDefinition Everything(string name, string marker, ServerResilience resilience) => new()
    {
        Name = name,
        Transport = McpTransportKind.Stdio,
        Command = "node",
        Args = [Repository.NpmServerScript("server-everything"), "stdio"],
        Env = new Dictionary<string, string> { [Marker] = marker },
        Resilience = resilience,
    };

    private static ServerDefinition Http(string name, TestMcpServer server, ServerResilience resilience) => new()
    {
        Name = name,
        Transport = McpTransportKind.StreamableHttp,
        Url = server.McpEndpoint,
        Resilience = resilience,
    };

    [Fact]
    public async Task AStdioServerKilledMidCallIsRestartedAndTheCallSucceedsOnRetry()
    {
        using var metrics = new MetricsRecorder(LightfastMetrics.MeterName);
        var marker = Guid.NewGuid().ToString("N");
        var name = UniqueName("crash");
        var (server, _) = await RegisterAsync(Everything(name, marker, Fast));
        var pid = await ProcessTree.WaitForOneWithEnvironmentAsync(Marker, marker, TimeSpan.FromSeconds(30));

        var call = server.CallToolAsync("trigger-long-running-operation", """{"duration":2,"steps":2}""", Timeout);
        await Task.Delay(300); // let the call reach the server; a kill before it would be retried the same way
        ProcessTree.Kill(pid);
        var result = await call;

        Assert.False(result.IsError);
        Assert.Contains("Long running operation", result.Content[0].Text, StringComparison.OrdinalIgnoreCase);
        var info = (await server.GetInfoAsync())!;
        Assert.Equal(ServerStatus.Running, info.Status);
        Assert.Equal(1, info.Reconnects);
        Assert.Null(info.LastError);
        var restarted = await ProcessTree.WaitForOneWithEnvironmentAsync(Marker, marker, TimeSpan.FromSeconds(30), other: pid);
        Assert.False(ProcessTree.IsAlive(pid));
        Assert.True(ProcessTree.IsAlive(restarted));
        Assert.True(metrics.Sum("lightfast.tool.call.retries", ("server", name)) >= 1);
        Assert.Equal(1, metrics.Sum("lightfast.server.reconnects", ("server", name), ("reason", "process_exited")));
        Assert.Equal(1, metrics.Sum("lightfast.tool.calls", ("server", name), ("outcome", "success")));
        output.WriteLine($"process {pid} killed mid-call; restarted as {restarted}; the call succeeded on retry");

        await server.StopAsync(Timeout);
        Assert.False(ProcessTree.IsAlive(restarted));
    }

    [Fact]
    public async Task AStdioServerThatKeepsDyingIsRestartedABoundedNumberOfTimesThenShowsItsExitCodeAndStderr()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (server, _) = await RegisterAsync(Everything(UniqueName("crash-loop"), marker, Fast));
        var pid = await ProcessTree.WaitForOneWithEnvironmentAsync(Marker, marker, TimeSpan.FromSeconds(30));

        // MaxRestarts = 2: two kills are answered with restarts, the third is not.
        for (var restart = 1; restart <= Fast.MaxRestarts; restart++)
        {
            ProcessTree.Kill(pid);
            pid = await ProcessTree.WaitForOneWithEnvironmentAsync(Marker, marker, TimeSpan.FromSeconds(30), other: pid);
            var expected = restart;
            await Eventually.WaitAsync(
                async () => (await server.GetInfoAsync())! is { Status: ServerStatus.Running } info && info.Reconnects == expected,
                $"restart {restart}",
                TimeSpan.FromSeconds(30));
        }

        ProcessTree.Kill(pid);
        var failed = await Eventually.WaitAsync(
            async () => (await server.GetInfoAsync())!,
            info => info.Status == ServerStatus.Error && info.LastError?.Code == ErrorCodes.ServerProcessExited,
            "the server to give up",
            TimeSpan.FromSeconds(30));

        Assert.Contains("exit code 137", failed.LastError!.Message, StringComparison.Ordinal);
        Assert.Contains("Starting default (STDIO) server", failed.LastError.Message, StringComparison.Ordinal);
        Assert.Contains("restarted 2 times", failed.LastError.Message, StringComparison.Ordinal);
        Assert.Empty(ProcessTree.WithEnvironment(Marker, marker));
        var refused = await Assert.ThrowsAsync<ServerException>(() => server.CallToolAsync("echo", """{"message":"x"}""", Timeout));
        Assert.Equal(ErrorCodes.ServerNotRunning, refused.Code);
        Assert.Equal(ErrorCodes.ServerProcessExited, refused.Details["lastError"]);

        // An operator's start begins again with a fresh budget.
        var started = await server.StartAsync(Timeout);
        Assert.Equal(ServerStatus.Running, started.Status);
        await server.StopAsync(Timeout);
        Assert.Empty(ProcessTree.WithEnvironment(Marker, marker));
    }

    [Fact]
    public async Task AnHttpServerThatGoesAwayOpensTheCircuitWhichAProbeClosesOnceTheServerIsBack()
    {
        using var metrics = new MetricsRecorder(LightfastMetrics.MeterName);
        var name = UniqueName("circuit");
        var mcp = await TestMcpServer.StartAsync(stateful: true);
        var port = mcp.Port;
        // The successful call, then the failing attempt and its retry: 2 failures in 3 calls (0.67 >= 0.6) opens it.
        var resilience = Fast with { MaxRetries = 1, CircuitMinimumCalls = 3, CircuitFailureRatio = 0.6 };
        var (server, _) = await RegisterAsync(Http(name, mcp, resilience));
        Assert.Equal("up", (await server.CallToolAsync("echo", """{"text":"up"}""", Timeout)).Content[0].Text);

        await mcp.DisposeAsync();

        // The first call fails twice (the attempt and its retry), which opens the circuit...
        var down = await Assert.ThrowsAsync<ServerException>(() => server.CallToolAsync("echo", """{"text":"x"}""", Timeout));
        Assert.Equal(ErrorCodes.ServerConnectionFailed, down.Code);
        Assert.Equal(ErrorCategory.Upstream, down.Category);

        // ...so the next one fails at once, with when to try again.
        var open = await Assert.ThrowsAsync<ServerException>(() => server.CallToolAsync("echo", """{"text":"x"}""", Timeout));
        Assert.Equal(ErrorCodes.ServerUnavailable, open.Code);
        Assert.Equal(ErrorCategory.Unavailable, open.Category);
        Assert.Equal(TimeSpan.FromSeconds(1), open.RetryAfter);
        Assert.Equal(CircuitState.Open, (await server.GetInfoAsync())!.Circuit);
        Assert.Equal((int)CircuitState.Open, metrics.Observe("lightfast.server.circuit.state", ("server", name)));

        await using var back = await TestMcpServer.StartAsync(port, stateful: true);

        // After the break, one call is let through as a probe: it reconnects (a new session) and closes the circuit.
        var result = await Eventually.WaitAsync(
            async () =>
            {
                try
                {
                    return await server.CallToolAsync("echo", """{"text":"back"}""", Timeout);
                }
                catch (ServerException ex) when (ex.Code == ErrorCodes.ServerUnavailable)
                {
                    return null;
                }
            },
            r => r is not null,
            "a call to get through once the server is back",
            TimeSpan.FromSeconds(30));

        Assert.Equal("back", result!.Content[0].Text);
        var info = (await server.GetInfoAsync())!;
        Assert.Equal(CircuitState.Closed, info.Circuit);
        Assert.Equal(ServerStatus.Running, info.Status);
        Assert.True(info.Reconnects >= 1);
        Assert.Equal((int)CircuitState.Closed, metrics.Observe("lightfast.server.circuit.state", ("server", name)));
        Assert.True(metrics.Sum("lightfast.tool.calls", ("server", name), ("outcome", "circuit_open")) >= 1);
        Assert.Equal(1, metrics.Sum("lightfast.tool.calls", ("server", name), ("outcome", "failed")));
        Assert.Equal(2, metrics.Sum("lightfast.tool.calls", ("server", name), ("outcome", "success")));
        Assert.NotEmpty(metrics.Of("lightfast.tool.call.duration", ("server", name), ("outcome", "success")));
        await server.StopAsync(Timeout);
    }

    [Fact]
    public async Task AnHttpServerThatForgotTheSessionGetsANewOneAndTheCallRunsExactlyOnce()
    {
        var key = Guid.NewGuid().ToString("N");
        var mcp = await TestMcpServer.StartAsync(stateful: true);
        var port = mcp.Port;
        var (server, _) = await RegisterAsync(Http(UniqueName("session"), mcp, Fast));
        Assert.Equal("1", (await server.CallToolAsync("record", $$"""{"key":"{{key}}"}""", Timeout)).Content[0].Text);

        // Restarted between two calls: the new process has never heard of our Mcp-Session-Id (HTTP 404).
        await mcp.DisposeAsync();
        await using var restarted = await TestMcpServer.StartAsync(port, stateful: true);

        var result = await server.CallToolAsync("record", $$"""{"key":"{{key}}"}""", Timeout);

        Assert.False(result.IsError);
        Assert.Equal("2", result.Content[0].Text);
        Assert.Equal(2, TestTools.Records[key]); // one write per call: none lost, none doubled
        var info = (await server.GetInfoAsync())!;
        Assert.Equal(ServerStatus.Running, info.Status);
        Assert.Equal(1, info.Reconnects);
        Assert.Equal(CircuitState.Closed, info.Circuit);
        await server.StopAsync(Timeout);
    }

    [Fact]
    public async Task AHangingServerTimesOutWithoutRetryAndTheCancellationReachesIt()
    {
        var name = UniqueName("hang");
        var (server, _) = await RegisterAsync(Http(name, fixture.McpServer, Fast) with { CallTimeout = TimeSpan.FromSeconds(1) });
        var id = Guid.NewGuid().ToString("N");

        var error = await Assert.ThrowsAsync<ToolExecutionException>(() =>
            server.CallToolAsync("sleep", $$"""{"id":"{{id}}","milliseconds":60000}""", Timeout));

        Assert.Equal(ErrorCodes.ToolTimeout, error.Code);
        Assert.Equal(ErrorCategory.Timeout, error.Category);
        await Eventually.WaitAsync(() => TestTools.CancelledSleeps.ContainsKey(id), "the server to see the cancellation", TimeSpan.FromSeconds(10));
        Assert.Equal(1, TestTools.StartedSleeps[id]); // a timeout is never retried
        Assert.Equal(ServerStatus.Running, (await server.GetInfoAsync())!.Status);
        await server.StopAsync(Timeout);
    }

    [Fact]
    public async Task AToolsOwnErrorIsAnAnswerNotAFailureItIsNeitherRetriedNorCountedAgainstTheCircuit()
    {
        using var metrics = new MetricsRecorder(LightfastMetrics.MeterName);
        var name = UniqueName("tool-error");
        var (server, _) = await RegisterAsync(Http(name, fixture.McpServer, Fast));
        var key = Guid.NewGuid().ToString("N");

        for (var i = 1; i <= 4; i++)
        {
            var result = await server.CallToolAsync("fail", $$"""{"key":"{{key}}"}""", Timeout);
            Assert.True(result.IsError);
            Assert.Equal(i, TestTools.Records[key]); // once per call: never retried
        }

        Assert.Equal(CircuitState.Closed, (await server.GetInfoAsync())!.Circuit);
        Assert.Equal(4, metrics.Sum("lightfast.tool.calls", ("server", name), ("outcome", "tool_error")));
        Assert.Equal(0, metrics.Sum("lightfast.tool.call.retries", ("server", name)));
        await server.StopAsync(Timeout);
    }

    [Fact]
    public async Task AServerThatAddsAToolSaysSoAndTheCatalogShowsItWithoutARestart()
    {
        await using var mcp = await TestMcpServer.StartAsync(stateful: true);
        var name = UniqueName("dynamic");
        var registry = fixture.Grains.GetGrain<IServerRegistryGrain>($"tests-{Guid.NewGuid():N}");
        await registry.AddServerAsync(Http(name, mcp, Fast), Timeout);
        var server = fixture.Grains.GetGrain<IMcpServerGrain>(name);
        Assert.DoesNotContain((await registry.GetToolCatalogAsync(Timeout)).Tools, t => t.Tool == "late_tool");

        await server.CallToolAsync("add_tool", """{"name":"late_tool"}""", Timeout);

        var catalog = await Eventually.WaitAsync(
            () => registry.GetToolCatalogAsync(Timeout),
            c => c.Tools.Any(t => t.Tool == "late_tool"),
            "the catalog to show the new tool",
            TimeSpan.FromSeconds(15));
        Assert.Contains(catalog.Tools, t => t.QualifiedName == $"{name}__late_tool");
        var result = await server.CallToolAsync("late_tool", """{"text":"hi"}""", Timeout);
        Assert.Equal("late_tool: hi", result.Content[0].Text);
        await server.StopAsync(Timeout);
    }

    [Fact]
    public async Task TheHealthTimerNoticesAServerGoingAwayAndReconnectsOnceItIsBackWithoutAnyCall()
    {
        using var metrics = new MetricsRecorder(LightfastMetrics.MeterName);
        var name = UniqueName("health");
        var mcp = await TestMcpServer.StartAsync(stateful: true);
        var port = mcp.Port;
        var (server, _) = await RegisterAsync(Http(name, mcp, Fast with { HealthInterval = TimeSpan.FromMilliseconds(500) }));

        var healthy = await Eventually.WaitAsync(
            async () => (await server.GetInfoAsync())!.Health,
            h => h is { Health: HealthStatus.Healthy, LatencyMs: not null },
            "a first successful health check",
            TimeSpan.FromSeconds(15));
        Assert.Equal(0, healthy!.ConsecutiveFailures);
        Assert.Equal((int)HealthStatus.Healthy, metrics.Observe("lightfast.server.health", ("server", name)));

        await mcp.DisposeAsync();
        var down = await Eventually.WaitAsync(
            async () => (await server.GetInfoAsync())!,
            i => i.Status != ServerStatus.Running && i.Health?.Health == HealthStatus.Unhealthy,
            "the health check to notice the server is gone",
            TimeSpan.FromSeconds(15));
        Assert.Equal(ErrorCodes.ServerConnectionFailed, down.LastError?.Code);

        await using var back = await TestMcpServer.StartAsync(port, stateful: true);
        var up = await Eventually.WaitAsync(
            async () => (await server.GetInfoAsync())!,
            i => i.Status == ServerStatus.Running,
            "the server to be reconnected by the health timer",
            TimeSpan.FromSeconds(30));

        Assert.Equal(0, up.CallCount);
        Assert.True(up.Reconnects >= 1);
        Assert.True(metrics.Sum("lightfast.server.reconnects", ("server", name)) >= 1);
        await server.StopAsync(Timeout);
    }

    [Fact]
    public async Task AnHttpServerThatIsNotUpYetIsConnectedOnceItIs()
    {
        var port = Repository.FreePort();
        var name = UniqueName("late");
        var (server, info) = await RegisterAsync(new ServerDefinition
        {
            Name = name,
            Transport = McpTransportKind.StreamableHttp,
            Url = new Uri($"http://127.0.0.1:{port}/mcp"),
            Resilience = Fast with { HealthInterval = TimeSpan.FromMilliseconds(500) },
        });
        Assert.Equal(ServerStatus.Error, info.Status);
        Assert.Equal(ErrorCodes.ServerConnectionFailed, info.LastError?.Code);

        await using var mcp = await TestMcpServer.StartAsync(port);

        await Eventually.WaitAsync(
            async () => (await server.GetInfoAsync())!.Status == ServerStatus.Running,
            "the server to be connected once it is up",
            TimeSpan.FromSeconds(30));
        Assert.Equal("late", (await server.CallToolAsync("echo", """{"text":"late"}""", Timeout)).Content[0].Text);
        await server.StopAsync(Timeout);
    }
}
