import { MigrationInterface, QueryRunner } from "typeorm";

export class WebhookEndpointLock1796677770020 implements MigrationInterface {
    name = 'WebhookEndpointLock1796677770020'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`webhook_locks\` (\`name\` varchar(32) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, PRIMARY KEY (\`name\`)) ENGINE=InnoDB`);
        // Added by hand: the row that creating an endpoint locks (webhook.repository.ts, countEndpointsLocked).
        await queryRunner.query(`INSERT INTO \`webhook_locks\` (\`name\`) VALUES ('endpoints')`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE \`webhook_locks\``);
    }

}
