using System.Net;
using Lightfast.Cloud.IntegrationTests.Infrastructure;
using Lightfast.Cloud.Storage.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Messaging;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>Starts Azurite once for the storage contract tests.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public Azurite Azurite { get; private set; } = null!;

    public async Task InitializeAsync() => Azurite = await Azurite.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();

    /// <summary>A silo host's services configured on Azurite the way Aspire configures a silo, for a cluster of its own.</summary>
    public IHost BuildSiloHost(string clusterId)
    {
        var builder = OnAzurite(clusterId);
        builder.UseOrleans(_ => { });
        return builder.Build();
    }

    /// <summary>A client host's services (the gateway's side), for the gateway list.</summary>
    public IHost BuildClientHost(string clusterId)
    {
        var builder = OnAzurite(clusterId);
        builder.UseOrleansClient(_ => { });
        return builder.Build();
    }

    /// <summary>A host whose clustering is on Azurite, with its storage client from configuration.</summary>
    private HostApplicationBuilder OnAzurite(string clusterId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:ClusterId"] = clusterId,
            ["Orleans:ServiceId"] = "contract",
            ["Orleans:Clustering:ProviderType"] = "AzureTableStorage",
            ["Orleans:Clustering:ServiceKey"] = "storage",
            ["ConnectionStrings:storage"] = Azurite.ConnectionString,
        });
        builder.Services.AddAzureStorageFromConfiguration(builder.Configuration);
        return builder;
    }
}

/// <summary>
/// The membership table contract (what Orleans' cluster membership relies on), against Azurite through the
/// provider the silos use: <c>AzureTableStorage</c> with its storage client from configuration.
/// </summary>
public sealed class MembershipContractTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private static int _port = 40000;

    private static async Task<IMembershipTable> TableAsync(IHost host)
    {
        var table = host.Services.GetRequiredService<IMembershipTable>();
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    private static MembershipEntry Entry(SiloStatus status = SiloStatus.Active, int proxyPort = 30000)
    {
        var port = Interlocked.Increment(ref _port);
        var now = DateTime.UtcNow;
        return new MembershipEntry
        {
            SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1),
            Status = status,
            ProxyPort = proxyPort,
            HostName = "contract-host",
            SiloName = $"silo-{port}",
            StartTime = now,
            IAmAliveTime = now,
            SuspectTimes = [],
        };
    }

    private static string NewClusterId() => $"contract-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task AnEmptyTableReadsVersionZeroAndAnInsertedRowReadsBackAloneAndInAll()
    {
        using var host = fixture.BuildSiloHost(NewClusterId());
        var table = await TableAsync(host);

        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var entry = Entry();
        Assert.True(await table.InsertRowAsync(entry, empty.Version.Next()));

        var one = await table.ReadRowAsync(entry.SiloAddress);
        var (read, etag) = Assert.Single(one.Members);
        Assert.Equal(entry.SiloAddress, read.SiloAddress);
        Assert.Equal(SiloStatus.Active, read.Status);
        Assert.Equal("contract-host", read.HostName);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.Equal(1, one.Version.Version);

        var second = Entry();
        Assert.True(await table.InsertRowAsync(second, one.Version.Next()));
        var all = await table.ReadAllAsync();
        Assert.Equal(2, all.Members.Count);
        Assert.Equal(2, all.Version.Version);
    }

    [Fact]
    public async Task AnUpdateWithAStaleTableVersionFailsAndTheRowAndVersionChangeTogether()
    {
        using var host = fixture.BuildSiloHost(NewClusterId());
        var table = await TableAsync(host);
        var entry = Entry();
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var current = await table.ReadRowAsync(entry.SiloAddress);
        var (row, etag) = current.Members[0];

        row.Status = SiloStatus.ShuttingDown;
        Assert.True(await table.UpdateRowAsync(row, etag, current.Version.Next()));

        // The row and the table version changed together (one table transaction): the old version is stale now.
        var fresh = await table.ReadRowAsync(entry.SiloAddress);
        var (freshRow, freshEtag) = fresh.Members[0];
        Assert.Equal(SiloStatus.ShuttingDown, freshRow.Status);
        Assert.Equal(current.Version.Version + 1, fresh.Version.Version);
        Assert.NotEqual(etag, freshEtag);
        freshRow.Status = SiloStatus.Dead;
        Assert.False(await table.UpdateRowAsync(freshRow, freshEtag, current.Version.Next())); // a stale table version
        Assert.Equal(SiloStatus.ShuttingDown, (await table.ReadRowAsync(entry.SiloAddress)).Members[0].Item1.Status);
        Assert.True(await table.UpdateRowAsync(freshRow, freshEtag, fresh.Version.Next()));
        Assert.Equal(SiloStatus.Dead, (await table.ReadRowAsync(entry.SiloAddress)).Members[0].Item1.Status);
    }

    [Fact]
    public async Task TheTableVersionIsTheConcurrencyTokenNotTheRowETag()
    {
        // Orleans 10.4 (dotnet/orleans#11309): heartbeats (IAmAlive merges) change a row's physical ETag, so the
        // Azure provider replaces the row unconditionally and guards the change with the version row alone. A
        // stale row ETag at the current version therefore succeeds; a stale version fails (tested above).
        using var host = fixture.BuildSiloHost(NewClusterId());
        var table = await TableAsync(host);
        var entry = Entry();
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var (row, staleEtag) = (await table.ReadRowAsync(entry.SiloAddress)).Members[0];

        entry.IAmAliveTime = DateTime.UtcNow.AddSeconds(5);
        await table.UpdateIAmAliveAsync(entry);
        var current = await table.ReadRowAsync(entry.SiloAddress);
        Assert.NotEqual(staleEtag, current.Members[0].Item2);

        row.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRowAsync(row, staleEtag, current.Version.Next()));
        var after = await table.ReadRowAsync(entry.SiloAddress);
        Assert.Equal(SiloStatus.Dead, after.Members[0].Item1.Status);
        Assert.Equal(current.Version.Version + 1, after.Version.Version);
    }

    [Fact]
    public async Task CleanupDeletesEntriesOfSilosThatAreNotActiveAndLastWrittenBeforeTheDate()
    {
        using var host = fixture.BuildSiloHost(NewClusterId());
        var table = await TableAsync(host);
        var oldDead = Entry(SiloStatus.Dead);
        var oldActive = Entry(SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(oldDead, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(oldActive, (await table.ReadAllAsync()).Version.Next()));

        // The provider judges an entry by when it was last written (the table's own Timestamp), not by the times
        // inside it, so the cut-off is taken between the writes.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var cutoff = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var newDead = Entry(SiloStatus.Dead);
        Assert.True(await table.InsertRowAsync(newDead, (await table.ReadAllAsync()).Version.Next()));

        await table.CleanupDefunctSiloEntriesAsync(cutoff);

        var left = (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress).ToList();
        Assert.DoesNotContain(oldDead.SiloAddress, left);
        Assert.Contains(oldActive.SiloAddress, left);
        Assert.Contains(newDead.SiloAddress, left);
    }

    [Fact]
    public async Task TwentyParallelInsertsAtTheSameVersionHaveExactlyOneWinner()
    {
        using var host = fixture.BuildSiloHost(NewClusterId());
        var table = await TableAsync(host);
        var next = (await table.ReadAllAsync()).Version.Next();

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => table.InsertRowAsync(Entry(), next)));

        Assert.Equal(1, results.Count(won => won));
        var all = await table.ReadAllAsync();
        Assert.Single(all.Members);
        Assert.Equal(next.Version, all.Version.Version);
    }

    [Fact]
    public async Task IAmAliveUpdatesTheTimeButNotTheVersion()
    {
        using var host = fixture.BuildSiloHost(NewClusterId());
        var table = await TableAsync(host);
        var entry = Entry();
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var before = await table.ReadAllAsync();

        var alive = DateTime.UtcNow.AddMinutes(1);
        entry.IAmAliveTime = alive;
        await table.UpdateIAmAliveAsync(entry);

        var after = await table.ReadAllAsync();
        Assert.Equal(before.Version.Version, after.Version.Version);
        Assert.Equal(alive, after.Members[0].Item1.IAmAliveTime, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task TheGatewayListHasTheActiveSilosGatewaysOnly()
    {
        var clusterId = NewClusterId();
        using var host = fixture.BuildSiloHost(clusterId);
        var table = await TableAsync(host);
        var active = Entry(SiloStatus.Active, proxyPort: 31001);
        var dead = Entry(SiloStatus.Dead, proxyPort: 31002);
        Assert.True(await table.InsertRowAsync(active, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(dead, (await table.ReadAllAsync()).Version.Next()));

        using var client = fixture.BuildClientHost(clusterId);
        var gateways = client.Services.GetRequiredService<IGatewayListProvider>();
        await gateways.InitializeGatewayListProvider();
        var list = await gateways.GetGateways();

        var gateway = Assert.Single(list);
        Assert.Equal(31001, gateway.Port);
    }
}
