using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Lightfast.Cloud.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Lightfast.Cloud.IntegrationTests;

/// <summary>A grain state for the storage contract: text and a counter.</summary>
[GenerateSerializer]
[Alias("contract.ContractState")]
public sealed class ContractState
{
    [Id(0)]
    public string Text { get; set; } = string.Empty;

    [Id(1)]
    public int Count { get; set; }
}

/// <summary>
/// The grain storage contract Orleans relies on, for both providers Lightfast supports on Azure Storage
/// (<c>AzureTableStorage</c>, <c>AzureBlobStorage</c>), through the providers a started silo configured from the
/// Aspire keys, against Azurite.
/// </summary>
[Collection(AzureSiloGroup.Name)]
public sealed class GrainStorageContractTests(AzureSiloFixture fixture)
{
    /// <summary>The table provider's documented limit: 15 properties of 64 KiB of serialized state.</summary>
    private const int TableLimitBytes = 15 * 64 * 1024;

    private static GrainId NewGrain() => GrainId.Create("contract", Guid.NewGuid().ToString("N"));

    private static GrainState<ContractState> Empty() => new() { State = new ContractState() };

    private static GrainState<ContractState> With(string text, int count = 0, string? etag = null) =>
        new() { State = new ContractState { Text = text, Count = count }, ETag = etag };

    private async Task<GrainState<ContractState>> ReadAsync(string provider, string stateName, GrainId grain)
    {
        var state = Empty();
        await fixture.Storage(provider).ReadStateAsync(stateName, grain, state);
        return state;
    }

    [Theory]
    [InlineData("table")]
    [InlineData("blob")]
    public async Task WriteReadAndClear(string provider)
    {
        var storage = fixture.Storage(provider);
        var grain = NewGrain();

        var missing = await ReadAsync(provider, "state", grain);
        Assert.False(missing.RecordExists);
        Assert.Null(missing.ETag);
        Assert.Equal(string.Empty, missing.State!.Text);

        var written = With("first", 1);
        await storage.WriteStateAsync("state", grain, written);
        Assert.True(written.RecordExists);
        Assert.False(string.IsNullOrEmpty(written.ETag));

        var read = await ReadAsync(provider, "state", grain);
        Assert.True(read.RecordExists);
        Assert.Equal(("first", 1), (read.State!.Text, read.State!.Count));
        Assert.Equal(written.ETag, read.ETag);

        read.State = new ContractState { Text = "second", Count = 2 };
        await storage.WriteStateAsync("state", grain, read);
        Assert.NotEqual(written.ETag, read.ETag);
        Assert.Equal("second", (await ReadAsync(provider, "state", grain)).State!.Text);

        await storage.ClearStateAsync("state", grain, read);
        var cleared = await ReadAsync(provider, "state", grain);
        Assert.Equal(string.Empty, cleared.State!.Text);
        Assert.Equal(0, cleared.State!.Count);

        // Written again after a clear, with the ETag the clear left.
        read.State = new ContractState { Text = "third", Count = 3 };
        await storage.WriteStateAsync("state", grain, read);
        Assert.Equal("third", (await ReadAsync(provider, "state", grain)).State!.Text);
    }

    [Theory]
    [InlineData("table")]
    [InlineData("blob")]
    public async Task AWriteWithAStaleETagIsRefusedAndChangesNothing(string provider)
    {
        var storage = fixture.Storage(provider);
        var grain = NewGrain();
        var first = With("one");
        await storage.WriteStateAsync("state", grain, first);
        var staleEtag = first.ETag;

        var other = await ReadAsync(provider, "state", grain);
        other.State!.Text = "two";
        await storage.WriteStateAsync("state", grain, other);

        var stale = With("lost update", etag: staleEtag);
        await Assert.ThrowsAnyAsync<InconsistentStateException>(() => storage.WriteStateAsync("state", grain, stale));
        // A writer that never read the record cannot overwrite it either.
        await Assert.ThrowsAnyAsync<InconsistentStateException>(() => storage.WriteStateAsync("state", grain, With("blind write")));
        // Nor clear it with a stale ETag.
        await Assert.ThrowsAnyAsync<InconsistentStateException>(() => storage.ClearStateAsync("state", grain, With(string.Empty, etag: staleEtag)));

        Assert.Equal("two", (await ReadAsync(provider, "state", grain)).State!.Text);
    }

    [Theory]
    [InlineData("table")]
    [InlineData("blob")]
    public async Task OfTenParallelWritesFromTheSameVersionExactlyOneWins(string provider)
    {
        var storage = fixture.Storage(provider);
        var grain = NewGrain();
        var initial = With("initial");
        await storage.WriteStateAsync("state", grain, initial);

        var writers = Enumerable.Range(0, 10).Select(i => With($"writer {i}", i, initial.ETag)).ToList();
        var outcomes = await Task.WhenAll(writers.Select(async writer =>
        {
            try
            {
                await storage.WriteStateAsync("state", grain, writer);
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        }));

        var winner = Assert.Single(writers.Where((_, i) => outcomes[i]));
        var stored = await ReadAsync(provider, "state", grain);
        Assert.Equal(winner.State!.Text, stored.State!.Text);
        Assert.Equal(winner.ETag, stored.ETag);
    }

    [Theory]
    [InlineData("table")]
    [InlineData("blob")]
    public async Task SeveralStateNamesOfOneGrainAreKeptApart(string provider)
    {
        var storage = fixture.Storage(provider);
        var grain = NewGrain();
        var settings = With("settings");
        var history = With("history");
        await storage.WriteStateAsync("settings", grain, settings);
        await storage.WriteStateAsync("history", grain, history);

        Assert.Equal("settings", (await ReadAsync(provider, "settings", grain)).State!.Text);
        Assert.Equal("history", (await ReadAsync(provider, "history", grain)).State!.Text);

        await storage.ClearStateAsync("settings", grain, settings);
        Assert.Equal(string.Empty, (await ReadAsync(provider, "settings", grain)).State!.Text);
        Assert.Equal("history", (await ReadAsync(provider, "history", grain)).State!.Text);
    }

    [Theory]
    [InlineData("table")]
    [InlineData("blob")]
    public async Task KeysWithNonAsciiAndReservedCharactersRoundTrip(string provider)
    {
        var storage = fixture.Storage(provider);
        // Azure Tables forbid / \ # ? in keys, blob names treat / as a folder: the providers escape them.
        var grains = new[] { "ünïcødé-日本語-😀", "a/b\\c#d?e", "%2F already escaped", "  spaces  ", "..", "'quoted' \"double\"" }
            .Select(key => GrainId.Create("contract", $"{key}-{Guid.NewGuid():N}"))
            .ToList();
        foreach (var grain in grains)
        {
            await storage.WriteStateAsync("state", grain, With(grain.Key.ToString()!));
        }

        foreach (var grain in grains)
        {
            Assert.Equal(grain.Key.ToString(), (await ReadAsync(provider, "state", grain)).State!.Text);
        }
    }

    [Fact]
    public async Task TableKeysCannotHoldControlCharacters()
    {
        // The table service refuses control characters in keys and the provider does not escape them. The gateway
        // therefore never turns a caller's text into a grain key it has not validated (server names, conversation ids).
        var grain = GrainId.Create("contract", $"tab\tand newline\n-{Guid.NewGuid():N}");

        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => fixture.Storage("table").WriteStateAsync("state", grain, With("x")));

        Assert.Equal(400, refused.Status);
    }

    [Theory]
    [InlineData("table")]
    [InlineData("blob")]
    public async Task AClearBeforeAnyWriteIsAccepted(string provider)
    {
        var storage = fixture.Storage(provider);
        var grain = NewGrain();
        var state = Empty();

        await storage.ClearStateAsync("state", grain, state);

        Assert.False((await ReadAsync(provider, "state", grain)).State!.Text.Length > 0);
        state.State = new ContractState { Text = "after the clear" };
        await storage.WriteStateAsync("state", grain, state);
        Assert.Equal("after the clear", (await ReadAsync(provider, "state", grain)).State!.Text);
    }

    [Fact]
    public async Task TableStateIsSplitAcrossPropertiesUpToTheLimitAndRefusedPastIt()
    {
        var storage = fixture.Storage("table");
        var grain = NewGrain();

        // Far more than one property (64 KiB) holds: the state is split across properties of one entity.
        var large = With(new string('x', 900_000));
        await storage.WriteStateAsync("state", grain, large);
        Assert.Equal(900_000, (await ReadAsync("table", "state", grain)).State!.Text.Length);

        var tooLarge = With(new string('y', TableLimitBytes + 1), etag: large.ETag);
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.WriteStateAsync("state", grain, tooLarge));
        Assert.StartsWith("Data too large to write to Azure table.", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"MaxSize={TableLimitBytes}", refused.Message, StringComparison.Ordinal);

        // The refused write changed nothing.
        Assert.Equal(900_000, (await ReadAsync("table", "state", grain)).State!.Text.Length);
    }

    [Fact]
    public async Task BlobStateHasNoSuchLimit()
    {
        var storage = fixture.Storage("blob");
        var grain = NewGrain();
        var large = With(new string('z', 3 * TableLimitBytes));

        await storage.WriteStateAsync("state", grain, large);

        Assert.Equal(3 * TableLimitBytes, (await ReadAsync("blob", "state", grain)).State!.Text.Length);
    }

    [Theory]
    [InlineData("table", false)]
    [InlineData("table-delete", true)]
    [InlineData("blob", false)]
    [InlineData("blob-delete", true)]
    public async Task DeleteStateOnClearDeletesTheRecordOtherwiseAClearKeepsAnEmptyOne(string provider, bool deletes)
    {
        var storage = fixture.Storage(provider);
        var key = Guid.NewGuid().ToString("N");
        var grain = GrainId.Create("contract", key);
        var state = With("to be cleared");
        await storage.WriteStateAsync("state", grain, state);
        Assert.Equal(1, await StoredRecordsAsync(provider, key));

        await storage.ClearStateAsync("state", grain, state);

        Assert.Equal(deletes ? 0 : 1, await StoredRecordsAsync(provider, key));
        // Either way the state reads as absent; a record that is kept keeps an ETag, which the next write must carry.
        var read = await ReadAsync(provider, "state", grain);
        Assert.Equal(string.Empty, read.State!.Text);
        Assert.False(read.RecordExists);
        Assert.Equal(deletes, read.ETag is null);
        Assert.Equal(read.ETag, state.ETag);
        if (deletes)
        {
            // A deleted record is written again from scratch, without an ETag.
            await storage.WriteStateAsync("state", grain, With("again"));
            Assert.Equal("again", (await ReadAsync(provider, "state", grain)).State!.Text);
        }
    }

    [Fact]
    public void GrainStateIsWrittenInOrleansBinaryFormatAndStateWrittenAsJsonIsStillRead()
    {
        var serializer = fixture.Services.GetRequiredService<IGrainStorageSerializer>();
        var state = new ContractState { Text = "ünïcødé", Count = 3 };

        var written = serializer.Serialize(state).ToArray();
        Assert.NotEqual((byte)'{', written[0]);
        Assert.Equal(("ünïcødé", 3), Roundtrip(written));

        // What a silo with Orleans' default (Newtonsoft JSON) grain storage serializer wrote.
        var json = ActivatorUtilities.CreateInstance<JsonGrainStorageSerializer>(fixture.Services).Serialize(state).ToArray();
        Assert.Equal((byte)'{', json[0]);
        Assert.Equal(("ünïcødé", 3), Roundtrip(json));

        (string, int) Roundtrip(byte[] data)
        {
            var read = serializer.Deserialize<ContractState>(BinaryData.FromBytes(data));
            return (read!.Text, read.Count);
        }
    }

    /// <summary>How many table entities or blobs hold state of the grain with <paramref name="key"/>, read with the Azure SDK.</summary>
    private async Task<int> StoredRecordsAsync(string provider, string key)
    {
        if (provider.StartsWith("table", StringComparison.Ordinal))
        {
            var tables = fixture.Services.GetRequiredKeyedService<TableServiceClient>("storage");
            var count = 0;
            await foreach (var entity in tables.GetTableClient("OrleansGrainState").QueryAsync<TableEntity>(select: ["PartitionKey"]))
            {
                count += entity.PartitionKey.Contains(key, StringComparison.Ordinal) ? 1 : 0;
            }

            return count;
        }

        var blobs = fixture.Services.GetRequiredKeyedService<BlobServiceClient>("storage");
        var found = 0;
        await foreach (var blob in blobs.GetBlobContainerClient("grainstate").GetBlobsAsync())
        {
            found += blob.Name.Contains(key, StringComparison.Ordinal) ? 1 : 0;
        }

        return found;
    }
}

/// <summary>The reminder table contract, through the <c>AzureTableStorage</c> reminder provider of the started silo.</summary>
[Collection(AzureSiloGroup.Name)]
public sealed class ReminderContractTests(AzureSiloFixture fixture)
{
    private IReminderTable Table => fixture.Services.GetRequiredService<IReminderTable>();

    /// <summary>A reminder of a grain type no silo hosts, due in a day, so that no silo ever fires it.</summary>
    private static ReminderEntry Entry(GrainId grain, string name, TimeSpan? period = null) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = DateTime.UtcNow.AddDays(1),
        Period = period ?? TimeSpan.FromHours(1),
    };

    private static GrainId NewGrain() => GrainId.Create("contract-reminder", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ARegisteredReminderReadsBackByNameByGrainAndByRange()
    {
        var grain = NewGrain();
        var entry = Entry(grain, "nightly");

        var etag = await Table.UpsertRow(entry);
        Assert.False(string.IsNullOrEmpty(etag));

        var read = await Table.ReadRow(grain, "nightly");
        Assert.NotNull(read);
        Assert.Equal(grain, read.GrainId);
        Assert.Equal("nightly", read.ReminderName);
        Assert.Equal(TimeSpan.FromHours(1), read.Period);
        Assert.Equal(entry.StartAt, read.StartAt, TimeSpan.FromSeconds(1));
        Assert.Equal(etag, read.ETag);

        await Table.UpsertRow(Entry(grain, "hourly"));
        var ofGrain = await Table.ReadRows(grain);
        Assert.Equal(["hourly", "nightly"], ofGrain.Reminders.Select(r => r.ReminderName).Order(StringComparer.Ordinal));

        // The range (hash - 1, hash] holds this grain's reminders (and only reminders of grains with that hash).
        var hash = grain.GetUniformHashCode();
        var inRange = await Table.ReadRows(hash - 1, hash);
        Assert.Equal(2, inRange.Reminders.Count(r => r.GrainId == grain));
        Assert.Null(await Table.ReadRow(grain, "never registered"));
    }

    [Fact]
    public async Task AnUpdateChangesTheETagAndARemoveWithAStaleETagIsRefused()
    {
        var grain = NewGrain();
        var first = await Table.UpsertRow(Entry(grain, "report")) ?? throw new InvalidOperationException("no ETag");

        var second = await Table.UpsertRow(Entry(grain, "report", TimeSpan.FromHours(6))) ?? throw new InvalidOperationException("no ETag");
        Assert.NotEqual(first, second);
        var updated = await Table.ReadRow(grain, "report");
        Assert.NotNull(updated);
        Assert.Equal(TimeSpan.FromHours(6), updated.Period);
        Assert.Single((await Table.ReadRows(grain)).Reminders);

        Assert.False(await Table.RemoveRow(grain, "report", first));
        Assert.NotNull(await Table.ReadRow(grain, "report"));

        Assert.True(await Table.RemoveRow(grain, "report", second));
        Assert.Null(await Table.ReadRow(grain, "report"));
        Assert.Empty((await Table.ReadRows(grain)).Reminders);
        Assert.False(await Table.RemoveRow(grain, "report", second));
    }
}

[CollectionDefinition(Name)]
public sealed class AzureSiloGroup : ICollectionFixture<AzureSiloFixture>
{
    public const string Name = "A silo on Azurite";
}
