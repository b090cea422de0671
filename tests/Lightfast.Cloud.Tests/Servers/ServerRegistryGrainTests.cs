using System.Diagnostics;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Lightfast.Cloud.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lightfast.Cloud.Tests.Servers;

[Collection(ClusterTestGroup.Name)]
public sealed class ServerRegistryGrainTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private IServerRegistryGrain NewRegistry() => fixture.Grains.GetGrain<IServerRegistryGrain>($"tests-{Guid.NewGuid():N}");

    private static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..30];

    [Fact]
    public async Task StartingSeveralServersStartsThemTogetherNotOneAfterAnother()
    {
        const int servers = 5;
        var registry = NewRegistry();
        var names = Enumerable.Range(0, servers).Select(i => UniqueName($"gate{i}")).ToList();

        // Each server's first request (initialize) is held at the server until all five servers have sent
        // theirs: a registry that started them one after another would never get there (the gate fails after 20 s).
        var definitions = names.Select(name => new ServerDefinition
        {
            Name = name,
            Transport = McpTransportKind.StreamableHttp,
            Url = fixture.McpServer.GatedEndpoint(name),
        }).ToList();

        fixture.McpServer.Gate = new StartGate(servers, TimeSpan.FromSeconds(20));
        try
        {
            var imported = await registry.ImportAsync(definitions, Timeout);
            Assert.All(imported, r => Assert.True(r.Succeeded, r.Error?.Message));

            var stoppedAll = await registry.StopAllAsync(Timeout);
            Assert.All(stoppedAll, r => Assert.Equal(ServerStatus.Stopped, r.Status));

            fixture.McpServer.Gate = new StartGate(servers, TimeSpan.FromSeconds(20));
            var stopwatch = Stopwatch.StartNew();
            var results = await registry.StartAllAsync(Timeout);
            stopwatch.Stop();

            Assert.Equal(names.Order(StringComparer.Ordinal), results.Select(r => r.Name).Order(StringComparer.Ordinal));
            Assert.All(results, r => Assert.True(r.Succeeded, r.Error?.Message));
            Assert.All(results, r => Assert.Equal(ServerStatus.Running, r.Status));
            output.WriteLine($"{servers} gated servers started together in {stopwatch.ElapsedMilliseconds} ms");
        }
        finally
        {
            fixture.McpServer.Gate = null;
        }
    }

    [Fact]
    public async Task BulkOperationsReturnOneResultPerServerAndOneFailureDoesNotFailTheOthers()
    {
        var registry = NewRegistry();
        var good = UniqueName("good");
        var bad = UniqueName("bad");
        var results = await registry.ImportAsync(
        [
            new ServerDefinition { Name = good, Transport = McpTransportKind.StreamableHttp, Url = fixture.McpServer.McpEndpoint },
            new ServerDefinition { Name = bad, Transport = McpTransportKind.Stdio, Command = "lightfast-no-such-command" },
        ], Timeout);

        Assert.True(results.Single(r => r.Name == good).Succeeded);
        var failed = results.Single(r => r.Name == bad);
        Assert.False(failed.Succeeded);
        Assert.Equal(ErrorCodes.ServerCommandNotFound, failed.Error?.Code);

        var health = await registry.GetHealthAsync(Timeout);
        Assert.Equal(2, health.Count);
        Assert.Equal(HealthStatus.Healthy, health.Single(h => h.Name == good).Health);
        Assert.Equal(HealthStatus.Unhealthy, health.Single(h => h.Name == bad).Health);

        var stopped = await registry.StopAllAsync(Timeout);
        Assert.Equal(2, stopped.Count);
        Assert.All(stopped, r => Assert.True(r.Succeeded));
        Assert.All(await registry.ListServersAsync(Timeout), s => Assert.Equal(ServerStatus.Stopped, s.Status));
    }

    [Fact]
    public async Task TwoServersWithTheSameToolAreBothReachableByQualifiedName()
    {
        var registry = NewRegistry();
        var first = UniqueName("first");
        var second = UniqueName("second");
        foreach (var name in new[] { first, second })
        {
            await registry.AddServerAsync(new ServerDefinition { Name = name, Transport = McpTransportKind.StreamableHttp, Url = fixture.McpServer.McpEndpoint }, Timeout);
        }

        var catalog = await registry.GetToolCatalogAsync(Timeout);

        var echoes = catalog.Tools.Where(t => t.Tool == "echo").ToList();
        Assert.Equal(2, echoes.Count);
        Assert.Contains(echoes, t => t.QualifiedName == $"{first}__echo" && t.Server == first);
        Assert.Contains(echoes, t => t.QualifiedName == $"{second}__echo" && t.Server == second);
        Assert.Equal(catalog.Tools.Count, catalog.Tools.Select(t => t.QualifiedName).Distinct().Count());
        Assert.All(catalog.Tools, t => Assert.Matches("^[a-zA-Z0-9_-]{1,64}$", t.QualifiedName));
        Assert.Empty(catalog.Unavailable);

        await fixture.Grains.GetGrain<IMcpServerGrain>(second).StopAsync(Timeout);
        var partial = await registry.GetToolCatalogAsync(Timeout);
        Assert.DoesNotContain(partial.Tools, t => t.Server == second);
        Assert.Equal(ErrorCodes.ServerNotRunning, Assert.Single(partial.Unavailable).Error?.Code);
    }

    [Fact]
    public async Task AddingATakenNameConflictsAndRemovingForgetsTheServer()
    {
        var registry = NewRegistry();
        var name = UniqueName("dup");
        var definition = new ServerDefinition { Name = name, Transport = McpTransportKind.StreamableHttp, Url = fixture.McpServer.McpEndpoint, Enabled = false };
        var added = await registry.AddServerAsync(definition, Timeout);
        Assert.Equal(ServerStatus.Stopped, added.Status);

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => registry.AddServerAsync(definition, Timeout));
        Assert.Equal(ErrorCodes.ServerAlreadyExists, conflict.Code);

        var replaced = await registry.PutServerAsync(definition with { Description = "replaced" }, Timeout);
        Assert.False(replaced.Created);
        Assert.Equal("replaced", replaced.Server.Description);

        await registry.RemoveServerAsync(name, Timeout);
        Assert.Empty(await registry.ListServersAsync(Timeout));
        Assert.Null(await fixture.Grains.GetGrain<IMcpServerGrain>(name).GetInfoAsync());
        var missing = await Assert.ThrowsAsync<NotFoundException>(() => registry.RemoveServerAsync(name, Timeout));
        Assert.Equal(ErrorCodes.ServerNotFound, missing.Code);
    }

    [Fact]
    public async Task ServerInfoNeverContainsSecretValues()
    {
        var registry = NewRegistry();
        var info = await registry.AddServerAsync(new ServerDefinition
        {
            Name = UniqueName("secret"),
            Transport = McpTransportKind.StreamableHttp,
            Url = fixture.McpServer.McpEndpoint,
            Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer top-secret-value" },
        }, Timeout);

        Assert.Equal(["Authorization"], info.HeaderNames);
        Assert.DoesNotContain("top-secret-value", System.Text.Json.JsonSerializer.Serialize(info), StringComparison.Ordinal);
    }
}
