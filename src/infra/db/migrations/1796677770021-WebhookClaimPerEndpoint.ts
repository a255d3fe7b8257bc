import { MigrationInterface, QueryRunner } from "typeorm";

export class WebhookClaimPerEndpoint1796677770021 implements MigrationInterface {
    name = 'WebhookClaimPerEndpoint1796677770021'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // The new index first (reordered by hand), so claiming never runs without one.
        await queryRunner.query(`CREATE INDEX \`idx_webhook_deliveries_endpoint_due\` ON \`webhook_deliveries\` (\`state\`, \`endpoint_id\`, \`next_attempt_at\`)`);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_due\` ON \`webhook_deliveries\``);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX \`idx_webhook_deliveries_due\` ON \`webhook_deliveries\` (\`state\`, \`next_attempt_at\`)`);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_endpoint_due\` ON \`webhook_deliveries\``);
    }

}
