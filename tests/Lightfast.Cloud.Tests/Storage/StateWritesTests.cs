using Azure;
using Lightfast.Cloud.Persistence;
using Orleans.Storage;

namespace Lightfast.Cloud.Tests.Storage;

/// <summary>Which storage failures are a state too large for its record (STATE_TOO_LARGE), and which are not.</summary>
public sealed class StateWritesTests
{
    [Fact]
    public void TheTableProvidersOwnSizeCheckIsRecognisedThroughTheStorageBridgesWrapper()
    {
        // What AzureTableGrainStorage 10.4 throws, wrapped the way the grain's state bridge wraps provider errors.
        var provider = new ArgumentOutOfRangeException("dataSize", 983153, "Data too large to write to Azure table. Size=983153 MaxSize=983040");
        var wrapped = new OrleansException("Error from storage provider AzureTableGrainStorage.Default during WriteStateAsync", provider);

        Assert.Equal("Data too large to write to Azure table. Size=983153 MaxSize=983040", StateWrites.SizeLimitOf(wrapped));
    }

    [Theory]
    [InlineData("EntityTooLarge")]
    [InlineData("RequestBodyTooLarge")]
    public void TheStorageServiceRefusingARecordForItsSizeIsRecognised(string errorCode)
    {
        var service = new RequestFailedException(413, "The entity is larger than the maximum allowed size (1MB).\nRequestId:1", errorCode, null);

        Assert.Equal($"{errorCode}: The entity is larger than the maximum allowed size (1MB).", StateWrites.SizeLimitOf(new OrleansException("write failed", service)));
    }

    [Fact]
    public void OtherStorageFailuresAreNotMistakenForSize()
    {
        Assert.Null(StateWrites.SizeLimitOf(new RequestFailedException(412, "Precondition failed", "UpdateConditionNotSatisfied", null)));
        Assert.Null(StateWrites.SizeLimitOf(new ArgumentOutOfRangeException("index", "Index was out of range.")));
        Assert.Null(StateWrites.SizeLimitOf(new InconsistentStateException("stale", "a", "b")));
    }
}
