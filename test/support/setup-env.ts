// Every test gives the AWS SDK dummy credentials and never lets it probe the
// cloud metadata address (traffic there is not allowed on these machines).
process.env.AWS_ACCESS_KEY_ID = 'test-access-key';
process.env.AWS_SECRET_ACCESS_KEY = 'test-secret-key';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
