using Lightfast.Cloud.Conversations.Providers;
using Lightfast.Cloud.Errors;
using Microsoft.Extensions.Options;

namespace Lightfast.Cloud.Tests.Conversations;

public sealed class ChatClientProviderTests
{
    [Fact]
    public void WithNoProviderConfiguredChatAnswersAiProviderNotConfigured()
    {
        using var provider = new ChatClientProvider(Options.Create(new AiOptions()));

        var error = Assert.Throws<AiProviderException>(() => provider.GetClient(null, null));

        Assert.Equal(ErrorCodes.AiProviderNotConfigured, error.Code);
        Assert.Equal(ErrorCategory.Unavailable, error.Category);
        Assert.Empty(provider.Providers);
        Assert.Null(provider.DefaultProvider);
    }

    [Fact]
    public void ASingleConfiguredProviderIsTheDefaultAndKeysNeverAppearInErrors()
    {
        var options = new AiOptions();
        options.Providers["only"] = new AiProviderOptions { Type = AiProviderType.OpenAI, ApiKey = "sk-secret-value" };
        using var provider = new ChatClientProvider(Options.Create(options));

        Assert.Equal("only", provider.DefaultProvider);
        var noModel = Assert.Throws<AiProviderException>(() => provider.GetClient(null, null));
        Assert.DoesNotContain("sk-secret-value", noModel.Message, StringComparison.Ordinal);
        var (client, model, name) = provider.GetClient(null, "gpt-test");
        Assert.NotNull(client);
        Assert.Equal("gpt-test", model);
        Assert.Equal("only", name);
        var unknown = Assert.Throws<AiProviderException>(() => provider.GetClient("other", "m"));
        Assert.Contains("configured: only", unknown.Message, StringComparison.Ordinal);
    }
}
