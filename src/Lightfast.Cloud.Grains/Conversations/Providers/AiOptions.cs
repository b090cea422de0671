namespace Lightfast.Cloud.Conversations.Providers;

/// <summary>The AI providers of a deployment, bound from <c>Lightfast:AI</c>. Keys never leave configuration.</summary>
public sealed class AiOptions
{
    public const string SectionName = "Lightfast:AI";

    /// <summary>The provider used when a conversation names none; the only one when there is one.</summary>
    public string? DefaultProvider { get; set; }

    /// <summary>Providers by name (<c>Lightfast:AI:Providers:{name}:Type</c> …).</summary>
    public Dictionary<string, AiProviderOptions> Providers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many tool calls of one step run at once.</summary>
    public int MaxConcurrentToolCalls { get; set; } = 8;
}

public enum AiProviderType
{
    OpenAI,
    AzureOpenAI,
    Anthropic,
}

public sealed class AiProviderOptions
{
    public AiProviderType Type { get; set; }

    /// <summary>
    /// OpenAI: optional base URL (<c>https://api.openai.com/v1</c> by default). Azure OpenAI: the resource endpoint
    /// (<c>https://NAME.openai.azure.com</c>), used with the Azure.AI.OpenAI client.
    /// Anthropic: optional base URL.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The API key. For Azure OpenAI, leave it empty to use <c>DefaultAzureCredential</c> (managed identity).</summary>
    public string? ApiKey { get; set; }

    /// <summary>The default model (for Azure OpenAI: the deployment name).</summary>
    public string? Model { get; set; }

    /// <summary>Retries of a failed request (429, 5xx, connection errors), with exponential backoff.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Anthropic: the largest answer in tokens.</summary>
    public int MaxOutputTokens { get; set; } = 4096;

    /// <summary>How long one model request may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);
}
