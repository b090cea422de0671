using System.Diagnostics;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Lightfast.Cloud.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lightfast.Cloud.Tests.Servers;

[Collection(ClusterTestGroup.Name)]
public sealed class McpServerGrainTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private async Task<IMcpServerGrain> StartHttpServerAsync(string name, TimeSpan? callTimeout = null)
    {
        var registry = fixture.Grains.GetGrain<IServerRegistryGrain>($"tests-{Guid.NewGuid():N}");
        var info = await registry.AddServerAsync(new ServerDefinition
        {
            Name = name,
            Transport = McpTransportKind.StreamableHttp,
            Url = fixture.McpServer.McpEndpoint,
            CallTimeout = callTimeout ?? ServerDefinition.DefaultCallTimeout,
        }, Timeout);
        Assert.Equal(ServerStatus.Running, info.Status);
        return fixture.Grains.GetGrain<IMcpServerGrain>(name);
    }

    [Fact]
    public async Task ConcurrentSlowCallsToOneServerRunTogetherOverItsOneConnection()
    {
        var server = await StartHttpServerAsync($"concurrent-{Guid.NewGuid():N}"[..30]);
        const int calls = 6;
        var group = Guid.NewGuid().ToString("N");

        // Each call only returns once all six are in flight at the server at the same time: if the grain
        // serialized calls, the first would wait for the others forever (and fail after 20 s).
        var stopwatch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, calls).Select(_ =>
            server.CallToolAsync("rendezvous", $$"""{"group":"{{group}}","count":{{calls}}}""", Timeout)));
        stopwatch.Stop();

        Assert.All(results, r => Assert.False(r.IsError, r.Content.Count > 0 ? r.Content[0].Text : null));
        Assert.Equal(
            Enumerable.Range(1, calls).Select(i => $"{i} of {calls}").Order(StringComparer.Ordinal),
            results.Select(r => r.Content.Single().Text!).Order(StringComparer.Ordinal));
        var info = await server.GetInfoAsync();
        Assert.Equal(calls, info!.CallCount);
        output.WriteLine($"{calls} concurrent rendezvous calls completed in {stopwatch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task ACallThatTakesLongerThanTheServersTimeoutFailsWithToolTimeoutAndIsCancelledAtTheServer()
    {
        var server = await StartHttpServerAsync($"slow-{Guid.NewGuid():N}"[..30], TimeSpan.FromSeconds(1));
        var id = Guid.NewGuid().ToString("N");

        var error = await Assert.ThrowsAsync<ToolExecutionException>(() =>
            server.CallToolAsync("sleep", $$"""{"id":"{{id}}","milliseconds":30000}""", Timeout));

        Assert.Equal(ErrorCodes.ToolTimeout, error.Code);
        Assert.Equal(ErrorCategory.Timeout, error.Category);
        await Eventually.WaitAsync(() => TestTools.CancelledSleeps.ContainsKey(id), "the server to see the cancellation", TimeSpan.FromSeconds(10));
        Assert.True(TestTools.CancelledSleeps.ContainsKey(id), "the server never saw the cancellation");
        Assert.Equal(ServerStatus.Running, (await server.GetInfoAsync())!.Status);
    }

    [Fact]
    public async Task ErrorsCrossTheGrainBoundaryWithTheirTypeAndCode()
    {
        var missing = fixture.Grains.GetGrain<IMcpServerGrain>("no-such-server");
        var notFound = await Assert.ThrowsAsync<NotFoundException>(() => missing.CallToolAsync("echo", null, Timeout));
        Assert.Equal(ErrorCodes.ServerNotFound, notFound.Code);
        Assert.Equal("no-such-server", notFound.Details["server"]);
        Assert.Null(await missing.GetInfoAsync());

        var server = await StartHttpServerAsync($"errors-{Guid.NewGuid():N}"[..30]);
        var unknownTool = await Assert.ThrowsAsync<NotFoundException>(() => server.CallToolAsync("nope", null, Timeout));
        Assert.Equal(ErrorCodes.ToolNotFound, unknownTool.Code);

        var invalid = await Assert.ThrowsAsync<ToolExecutionException>(() => server.CallToolAsync("echo", """{"text": 5}""", Timeout));
        Assert.Equal(ErrorCodes.ToolInvalidArguments, invalid.Code);

        var registry = fixture.Grains.GetGrain<IServerRegistryGrain>("errors");
        var validation = await Assert.ThrowsAsync<ValidationException>(() => registry.AddServerAsync(
            new ServerDefinition { Name = "Not Valid", Transport = McpTransportKind.Sse }, Timeout));
        Assert.Contains(validation.Errors, e => e.Path == "name");
        Assert.Contains(validation.Errors, e => e.Path == "url");
    }

    [Fact]
    public async Task AStoppedServerRefusesCallsAndARestartedOneAnswersAgain()
    {
        var name = $"lifecycle-{Guid.NewGuid():N}"[..30];
        var server = await StartHttpServerAsync(name);

        var stopped = await server.StopAsync(Timeout);
        Assert.Equal(ServerStatus.Stopped, stopped.Status);
        Assert.Equal(DesiredState.Stopped, stopped.DesiredState);
        var refused = await Assert.ThrowsAsync<ServerException>(() => server.CallToolAsync("echo", """{"text":"x"}""", Timeout));
        Assert.Equal(ErrorCodes.ServerNotRunning, refused.Code);
        Assert.Equal(ErrorCategory.Unavailable, refused.Category);

        var restarted = await server.RestartAsync(Timeout);
        Assert.Equal(ServerStatus.Running, restarted.Status);
        var result = await server.CallToolAsync("echo", """{"text":"again"}""", Timeout);
        Assert.Equal("again", result.Content.Single().Text);

        var health = await server.CheckHealthAsync(Timeout);
        Assert.Equal(HealthStatus.Healthy, health.Health);
        Assert.NotNull(health.LatencyMs);
    }

    [Fact]
    public async Task AServerThatCannotBeReachedIsInTheErrorStateWithAClearCode()
    {
        var registry = fixture.Grains.GetGrain<IServerRegistryGrain>($"tests-{Guid.NewGuid():N}");
        var info = await registry.AddServerAsync(new ServerDefinition
        {
            Name = "unreachable",
            Transport = McpTransportKind.StreamableHttp,
            Url = new Uri("http://127.0.0.1:9/mcp"),
        }, Timeout);

        Assert.Equal(ServerStatus.Error, info.Status);
        Assert.Equal(ErrorCodes.ServerConnectionFailed, info.LastError?.Code);

        var missingCommand = await registry.AddServerAsync(new ServerDefinition
        {
            Name = "missing-command",
            Transport = McpTransportKind.Stdio,
            Command = "lightfast-no-such-command",
        }, Timeout);
        Assert.Equal(ServerStatus.Error, missingCommand.Status);
        Assert.Equal(ErrorCodes.ServerCommandNotFound, missingCommand.LastError?.Code);
        var health = await fixture.Grains.GetGrain<IMcpServerGrain>("missing-command").CheckHealthAsync(Timeout);
        Assert.Equal(HealthStatus.Unhealthy, health.Health);
    }
}
