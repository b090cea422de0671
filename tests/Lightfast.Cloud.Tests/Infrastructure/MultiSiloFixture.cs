using Lightfast.Cloud.Hosting;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.Placement;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Lightfast.Cloud.Tests.Infrastructure;

/// <summary>
/// A test cluster of three silos in this process, for failover: grain storage outlives any silo, the keeper
/// sweeps every second, and server grains are placed at random (so that some land away from the primary silo,
/// which hosts the test cluster's membership table and must stay up). A stateful in-process MCP server counts
/// the sessions each server opens and ends. Note: a silo killed in this process still marks itself dead in the
/// membership table, so detection is immediate here; a crashed silo process is detected by missed probes.
/// </summary>
public sealed class MultiSiloFixture : IAsyncLifetime
{
    public const int Silos = 3;

    /// <summary>How often the keeper sweeps in this cluster.</summary>
    public static readonly TimeSpan KeeperInterval = TimeSpan.FromSeconds(1);

    public TestCluster Cluster { get; private set; } = null!;

    public TestMcpServer McpServer { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        McpServer = await TestMcpServer.StartAsync(stateful: true);
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = Silos } };
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>Starts silos until the cluster has three again (a test before may have killed or stopped some).</summary>
    public async Task EnsureAllSilosAsync()
    {
        while (Cluster.GetActiveSilos().Count() < Silos)
        {
            await Cluster.StartAdditionalSiloAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await McpServer.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.AddGrainStorage("Default", (sp, _) => new SharedGrainStorage("multi-silo", sp.GetRequiredService<DeepCopier>()));
            siloBuilder.Services.AddLightfastGrains();
            siloBuilder.Services.Configure<ServerKeeperOptions>(options => options.Interval = KeeperInterval);
            siloBuilder.Services.AddSingleton<PlacementStrategy, RandomPlacement>();
            siloBuilder.Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.NumMissedProbesLimit = 2;
                options.NumVotesForDeathDeclaration = 1;
                options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
        }
    }
}

[CollectionDefinition(Name)]
public sealed class MultiSiloTestGroup : ICollectionFixture<MultiSiloFixture>
{
    public const string Name = "multi-silo";
}
