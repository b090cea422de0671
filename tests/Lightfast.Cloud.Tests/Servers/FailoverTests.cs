using System.Diagnostics;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Lightfast.Cloud.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Lightfast.Cloud.Tests.Servers;

/// <summary>
/// Servers that should run come back by themselves when their silo dies (kill) or is shut down (graceful stop),
/// with no client call; a graceful stop ends their processes and sessions.
/// </summary>
[Collection(MultiSiloTestGroup.Name)]
public sealed class FailoverTests(MultiSiloFixture fixture, ITestOutputHelper output)
{
    private const string Marker = "LIGHTFAST_TEST_MARKER";

    private static readonly ServerResilience Quick = ServerResilience.Default with { HealthInterval = TimeSpan.FromSeconds(1) };

    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private IServerRegistryGrain Registry => fixture.Grains.GetGrain<IServerRegistryGrain>(IServerRegistryGrain.DefaultKey);

    private async Task<List<ServerInfo>> RegisterHttpServersAsync(string prefix, int count)
    {
        var infos = new List<ServerInfo>();
        for (var i = 0; i < count; i++)
        {
            var name = $"{prefix}-{i}";
            infos.Add(await Registry.AddServerAsync(new ServerDefinition
            {
                Name = name,
                Transport = McpTransportKind.StreamableHttp,
                Url = fixture.McpServer.GatedEndpoint(name),
                Resilience = Quick,
            }, Timeout));
        }

        Assert.All(infos, info => Assert.Equal(ServerStatus.Running, info.Status));
        return infos;
    }

    /// <summary>A silo other than the primary (which holds the test cluster's membership) that hosts one of the servers.</summary>
    private SiloHandle SecondarySiloHosting(IReadOnlyList<ServerInfo> servers, out ServerInfo hosted)
    {
        var primary = fixture.Cluster.Primary!.SiloAddress.ToString();
        hosted = servers.FirstOrDefault(s => s.Silo != primary)
            ?? throw new InvalidOperationException($"every server was placed on the primary silo: {string.Join(", ", servers.Select(s => s.Silo))}");
        var silo = hosted.Silo;
        return fixture.Cluster.GetActiveSilos().Single(s => s.SiloAddress.ToString() == silo);
    }

    [Fact]
    public async Task ServersOfAKilledSiloRunAgainOnAnotherSiloWithoutAnyClientCall()
    {
        await fixture.EnsureAllSilosAsync();
        var prefix = $"kill-{Guid.NewGuid():N}"[..12];
        var servers = await RegisterHttpServersAsync(prefix, 6);
        var victim = SecondarySiloHosting(servers, out _);
        var lost = servers.Where(s => s.Silo == victim.SiloAddress.ToString()).Select(s => s.Name).ToList();
        output.WriteLine($"killing {victim.SiloAddress}, which hosts {string.Join(", ", lost)}");

        var stopwatch = Stopwatch.StartNew();
        await fixture.Cluster.KillSiloAsync(victim);

        // No call to the lost servers: the keeper on the surviving silos wakes them up, and each opens a new
        // MCP session (a second initialize at the MCP server) from its new silo.
        await Eventually.WaitAsync(
            () => lost.All(name => fixture.McpServer.Initializations.GetValueOrDefault(name) >= 2),
            "every server of the killed silo to connect again",
            TimeSpan.FromSeconds(60));
        var reconnecting = stopwatch.Elapsed;

        // Only now ask the grains (asking activates them, which would make them resume without the keeper).
        var infos = await Eventually.WaitAsync(
            async () => (await Registry.ListServersAsync(Timeout)).Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList(),
            list => list.All(s => s.Status == ServerStatus.Running),
            "every server to be running",
            TimeSpan.FromSeconds(30));
        var running = stopwatch.Elapsed;
        Assert.Equal(servers.Count, infos.Count);
        Assert.All(infos, info => Assert.NotEqual(victim.SiloAddress.ToString(), info.Silo));
        var call = await fixture.Grains.GetGrain<IMcpServerGrain>(lost[0]).CallToolAsync("echo", """{"text":"moved"}""", Timeout);
        Assert.Equal("moved", call.Content[0].Text);
        output.WriteLine($"{lost.Count} servers of the killed silo: reconnecting from other silos {reconnecting.TotalSeconds:0.0} s after the kill, all running {running.TotalSeconds:0.0} s after it");

        await Registry.StopAllAsync(Timeout);
    }

    [Fact]
    public async Task AGracefullyStoppedSiloEndsItsProcessesAndSessionsAndItsServersRunElsewhere()
    {
        await fixture.EnsureAllSilosAsync();
        var prefix = $"stop-{Guid.NewGuid():N}"[..12];

        // A stdio server away from the primary silo: register until placement puts one there.
        var marker = Guid.NewGuid().ToString("N");
        var everything = Repository.NpmServerScript("server-everything");
        var primary = fixture.Cluster.Primary!.SiloAddress.ToString();
        ServerInfo? stdio = null;
        var stdioMarker = string.Empty;
        for (var i = 0; stdio is null && i < 8; i++)
        {
            stdioMarker = $"{marker}-{i}";
            var info = await Registry.AddServerAsync(new ServerDefinition
            {
                Name = $"{prefix}-stdio-{i}",
                Transport = McpTransportKind.Stdio,
                Command = "node",
                Args = [everything, "stdio"],
                Env = new Dictionary<string, string> { [Marker] = stdioMarker },
                Resilience = Quick,
            }, Timeout);
            Assert.Equal(ServerStatus.Running, info.Status);
            if (info.Silo != primary)
            {
                stdio = info;
            }
            else
            {
                await Registry.RemoveServerAsync(info.Name, Timeout);
            }
        }

        Assert.NotNull(stdio);
        var pid = Assert.Single(ProcessTree.WithEnvironment(Marker, stdioMarker));
        var http = await RegisterHttpServersAsync(prefix, 6);
        var silo = fixture.Cluster.GetActiveSilos().Single(s => s.SiloAddress.ToString() == stdio.Silo);
        var httpOnSilo = http.Where(s => s.Silo == stdio.Silo).Select(s => s.Name).ToList();
        var sessionsEnded = fixture.McpServer.SessionsEnded;

        await fixture.Cluster.StopSiloAsync(silo);

        // Graceful: the child process is gone (no orphan) and every MCP session of that silo was ended (DELETE).
        Assert.False(ProcessTree.IsAlive(pid), $"process {pid} of {stdio.Name} outlived its silo");
        Assert.True(fixture.McpServer.SessionsEnded - sessionsEnded >= httpOnSilo.Count, $"{httpOnSilo.Count} HTTP sessions should have been ended");

        // And the servers come back elsewhere, the stdio one with a new process.
        var newPid = await ProcessTree.WaitForOneWithEnvironmentAsync(Marker, stdioMarker, TimeSpan.FromSeconds(60), other: pid);
        await Eventually.WaitAsync(
            async () => (await Registry.ListServersAsync(Timeout))
                .Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal))
                .All(s => s.Status == ServerStatus.Running && s.Silo != stdio.Silo),
            "every server to run on a remaining silo",
            TimeSpan.FromSeconds(60));
        Assert.True(ProcessTree.IsAlive(newPid));

        await Registry.StopAllAsync(Timeout);
        Assert.False(ProcessTree.IsAlive(newPid));
    }
}
